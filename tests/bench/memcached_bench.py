#!/usr/bin/python3
"""The memcached part of the benchmark (build.ps1 -Task Bench), with Debian's python3-memcache and python3-beaker.

    memcached_bench.py write URLS COUNT   COUNT realistic sessions as Beaker's ext:memcached keeps them through
                                          python-memcached (key <id>_session, the dict pickled by the client, no
                                          expiry), created over 30 days with lifetimes as bench_store.py's realistic
                                          store; one saved by Beaker itself and read back
    memcached_bench.py reference URLS     what an operator would write in Python: lru_crawler metadump on each server,
                                          the client's get_multi (which unpickles), the time conversion; prints the
                                          number of sessions

URLS is Beaker's url: host:port;host:port.
"""
import datetime as dt
import os
import random
import socket
import sys
import time
import urllib.parse
import uuid

import memcache
from beaker.session import Session

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_store import realistic_lifetimes, realistic_values  # noqa: E402


def write(urls, count):
    count = int(count)
    first = Session({}, type='ext:memcached', url=urls)
    first['user_name'] = 'first@example.com'
    first.save()
    if Session({'cookie': ''}, id=first.id, type='ext:memcached', url=urls).get('user_name') != 'first@example.com':
        sys.exit('Beaker cannot load the session it saved')
    client = memcache.Client(urls.split(';'))
    rng = random.Random(20261207)
    batch = {}
    for i, created, accessed in realistic_lifetimes(rng, count, time.time()):
        batch[uuid.UUID(int=rng.getrandbits(128)).hex + '_session'] = realistic_values(rng, i, created, accessed)
        if len(batch) == 2000:
            if client.set_multi(batch):
                sys.exit('memcached refused some sessions (out of memory?)')
            batch = {}
    if batch and client.set_multi(batch):
        sys.exit('memcached refused some sessions (out of memory?)')


def keys_of(server):
    host, port = server.rsplit(':', 1)
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b'lru_crawler metadump hash\r\n')
        reader = s.makefile('rb')
        for line in reader:
            if line == b'END\r\n':
                return
            key = urllib.parse.unquote(line.split(b' ', 1)[0][4:].decode())
            if key.endswith('_session'):
                yield key


def reference(urls):
    client = memcache.Client(urls.split(';'))
    sessions = []
    for server in urls.split(';'):
        keys = list(keys_of(server))
        for start in range(0, len(keys), 1000):
            for key, session in client.get_multi(keys[start:start + 1000]).items():
                for name in ('_accessed_time', '_creation_time'):
                    if name in session:
                        session[name] = dt.datetime.fromtimestamp(session[name])
                sessions.append((key, session))
    sessions.sort(key=lambda kv: kv[1].get('_accessed_time') or dt.datetime.min)
    print(len(sessions))


if __name__ == '__main__':
    {'write': write, 'reference': reference}[sys.argv[1]](*sys.argv[2:])
