"""Qt's own source tree, as a distribution or an SDK builds it.

Qt's source releases unpack as ``qtbase-everywhere-src-5.15.9`` (Qt 5.10 and later, Qt 6), earlier
``qtbase-opensource-src-5.9.1`` and Qt 4's single ``qt-everywhere-opensource-src-4.8.7``; a build from them (Gentoo's
``/var/tmp/portage/…/work/``, a distribution's build root) keeps that directory in the debug info. A frame whose source
lies under it is Qt's code, wherever the tree was unpacked; so is one in a header of Qt's installed module directories
(``/usr/include/qt4/QtCore/qstring.h``, ``…/qt5/QtWidgets/qwidget.h``, an SDK's ``include/QtCore/``, a macOS
``QtCore.framework/Headers/``): Qt's inline code, such as gdb's bare ``QString`` constructor frame.

>>> bool(QT_SOURCE_TREE.search("/build/qtbase-everywhere-src-6.5.0/src/widgets/widgets/qslider.cpp"))
True
>>> bool(QT_SOURCE_TREE.search("/home/me/qtbase-tools/src/main.cpp"))
False
>>> in_qt_source("/usr/include/x86_64-linux-gnu/qt5/QtCore/qstring.h"), in_qt_source("/home/me/app/QtCore/qstring.h")
(True, False)
"""
from __future__ import annotations

import re

QT_SOURCE_TREE = re.compile(r"(?:^|/)qt[a-z0-9]*-(?:everywhere-)?(?:opensource-)?src-\d+(?:\.\d+)+[\w.-]*/")

QT_HEADER = re.compile(r"/include/(?:[\w-]+/)?(?:qt[456]/)?Qt[A-Z]\w*/q\w+\.h$|/Qt[A-Z]\w*\.framework/(?:Versions/\w+/)?Headers/q\w+\.h$")


def in_qt_source(source) -> bool:
    """``source`` is in Qt's source tree or one of its installed module headers."""
    return isinstance(source, str) and bool(QT_SOURCE_TREE.search(source) or QT_HEADER.search(source))
