"""Qt Widgets views; the only package that imports Qt."""
