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
<context>
    <name>Messages</name>
    <message numerus="yes">
        <source>Please wait %n seconds before trying again.</source>
        <translation>
            <numerusform>Please wait %n second before trying again.</numerusform>
            <numerusform>Please wait %n seconds before trying again.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Please write %n more words.</source>
        <translation>
            <numerusform>Please write %n more word.</numerusform>
            <numerusform>Please write %n more words.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Please add %n more different actions.</source>
        <translation>
            <numerusform>Please add %n more different action.</numerusform>
            <numerusform>Please add %n more different actions.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>HomeScreen</name>
    <message numerus="yes">
        <source>%n days left</source>
        <translation>
            <numerusform>%n day left</numerusform>
            <numerusform>%n days left</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n days past your due date. Please talk to an officer.</source>
        <translation>
            <numerusform>%n day past your due date. Please talk to an officer.</numerusform>
            <numerusform>%n days past your due date. Please talk to an officer.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>PledgeView</name>
    <message numerus="yes">
        <source>Choose at least %n things you will do.</source>
        <translation>
            <numerusform>Choose at least %n thing you will do.</numerusform>
            <numerusform>Choose at least %n things you will do.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Please add %n more different actions.</source>
        <translation>
            <numerusform>Please add %n more different action.</numerusform>
            <numerusform>Please add %n more different actions.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TextEntryView</name>
    <message numerus="yes">
        <source>%1 of %n words</source>
        <translation>
            <numerusform>%1 of %n word</numerusform>
            <numerusform>%1 of %n words</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n words</source>
        <translation>
            <numerusform>%n word</numerusform>
            <numerusform>%n words</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Please write %n more words.</source>
        <translation>
            <numerusform>Please write %n more word.</numerusform>
            <numerusform>Please write %n more words.</numerusform>
        </translation>
    </message>
</context>
</TS>
