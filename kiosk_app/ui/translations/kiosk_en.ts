<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<!-- English is the source language; this file only gives English plural forms. -->
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>IdleOverlay</name>
    <message numerus="yes">
        <source>Logging out in %n seconds.</source>
        <translation>
            <numerusform>Logging out in %n second.</numerusform>
            <numerusform>Logging out in %n seconds.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LoginScreen</name>
    <message numerus="yes">
        <source>You can try again in %n seconds.</source>
        <translation>
            <numerusform>You can try again in %n second.</numerusform>
            <numerusform>You can try again in %n seconds.</numerusform>
        </translation>
    </message>
</context>
</TS>
