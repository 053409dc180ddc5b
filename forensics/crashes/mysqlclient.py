"""MySQL's (and MariaDB's) client library linked into a program: its frames are the library's, not the program's.

A program talks to the server through the C API (``mysql.h``: ``mysql_init``, ``mysql_real_connect``, ``mysql_query``,
``mysql_real_escape_string``, ``mysql_ping``, the ``mysql_stmt_*`` prepared statements …), which libmysqlclient (or
MariaDB's libmariadb) implements in ``libmysql/libmysql.c`` and ``sql-common/client.c`` (the ``cli_*`` read and
connect paths) over ``sql/net_serv.cc`` (``my_net_read``, ``my_real_read``, ``net_*``) and the ``mysys`` and
``strings`` helpers (``my_*``). A crash under those frames names the caller that used the connection as its own
frame, as with any library. The server itself compiles the same files (replication's client, ``net_serv.cc`` for
every connection), so a stack that shows the server's own dispatch is left alone.

>>> is_client_frame("mysql_real_escape_string", None, None), is_client_frame("my_real_read", "sql/net_serv.cc", None)
(True, True)
>>> is_client_frame("my_helper", "src/util.c", None), is_client_frame("my_aes_decrypt", None, "libmysqlclient.so.18")
(False, True)
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

# the C API's functions (the reference manual's C API function list; prepared statements are mysql_stmt_*)
_C_API = re.compile(
    r"^mysql_(?:affected_rows|autocommit|change_user|character_set_name|close|commit|data_seek|dump_debug_info|errno|"
    r"error|escape_string|fetch_field(?:s|_direct)?|fetch_lengths|fetch_row|field_count|field_seek|field_tell|"
    r"free_result|get_\w+|hex_string|info|init|insert_id|kill|library_(?:init|end)|list_\w+|more_results|next_result|"
    r"num_fields|num_rows|options\d?|ping|query|real_connect\w*|real_escape_string\w*|real_query|refresh|reload|"
    r"reset_connection|rollback|row_seek|row_tell|select_db|send_query|server_(?:init|end)|session_track_\w+|"
    r"set_character_set|set_local_infile_\w+|set_server_option|shutdown|sqlstate|ssl_set|stat|store_result|"
    r"thread_(?:end|id|init|safe)|use_result|warning_count|stmt_\w+)$")
# the client library's own source files, as a debug build's frames name them
_CLIENT_SOURCE = re.compile(r"(?:^|/)(?:libmysql/libmysql\.c|libmysql\.c|sql-common/client(?:_plugin)?\.c|"
                            r"sql/net_serv\.cc?|libmariadb/[\w/]+\.c)$|(?:^|/)(?:mysys|mysys_ssl)/[\w.]+\.cc?$")
_CLIENT_MODULE = re.compile(r"^lib(?:mysqlclient|mariadb(?:client)?|perconaserverclient)(?:_r)?\.(?:so|dylib)(?:\.\d+)*$")
# the server's own dispatch: such a stack is mysqld's (its copy of the client code is its own)
_SERVER = re.compile(r"^(?:do_command|dispatch_command|mysql_execute_command|mysql_parse|handle_one_connection|"
                     r"handle_connection|do_handle_one_connection|handle_slave_\w+|mysqld_main|pfs_spawn_thread)$")


def is_client_frame(function, source_file, module) -> bool:
    """One frame of the MySQL/MariaDB client library (by its C API name, its source file or its module)."""
    base = module.replace("\\", "/").rsplit("/", 1)[-1] if isinstance(module, str) else ""
    return (bool(base) and bool(_CLIENT_MODULE.match(base))) \
        or (isinstance(source_file, str) and bool(_CLIENT_SOURCE.search(source_file))) \
        or (isinstance(function, str) and bool(_C_API.match(function)))


def mark_mysql_client(frames: pd.DataFrame) -> None:
    """Mark a linked-in MySQL client library's frames as library code (not the program's own), in place."""
    if frames.empty:
        return
    names = frames["norm_function"].tolist()
    if any(isinstance(n, str) and _SERVER.match(n) for n in names):
        return
    srcs = frames["source_file"].tolist() if "source_file" in frames else [None] * len(frames)
    mods = frames["module"].tolist() if "module" in frames else [None] * len(frames)
    hit = np.array([is_client_frame(n, s, m) for n, s, m in zip(names, srcs, mods)], dtype=bool)
    if hit.any():
        frames.loc[hit, "is_library"] = True
        frames.loc[hit, "is_own"] = False
