#!/usr/bin/python3
"""The Redis part of the benchmark (build.ps1 -Task Bench), with Debian's python3-redis and python3-beaker.

    redis_bench.py write URL COUNT [SHAPE]
                                        COUNT sessions as Beaker's ext:redis keeps them, pipelined, one saved by Beaker;
                                        SHAPE realistic (default: bench_store.py's write-realistic sessions, mixed key
                                        sets and lifetimes) or uniform (one key set, last accessed evenly over 30 days)
    redis_bench.py reference URL        what an operator would write in Python: SCAN, GET, pickle.loads, the time
                                        conversion; prints the number of sessions
    redis_bench.py latency URL STOP OUT pings the server every 5 ms until the file STOP exists; writes the round trips

The first session is saved by beaker.session.Session itself and read back, which proves the bulk-written layout is
Beaker's own: key beaker_cache:<id>:session, value pickle.dumps(V).
"""
import datetime as dt
import json
import os
import pickle
import random
import sys
import time
import uuid

import redis
from beaker.session import Session

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_store import realistic_lifetimes, realistic_values, session_values  # noqa: E402


def write(url, count, shape='realistic'):
    count = int(count)
    client = redis.StrictRedis.from_url(url)
    first = Session({}, type='ext:redis', url=url)
    first['user_name'] = 'first@example.com'
    first.save()
    if Session({'cookie': ''}, id=first.id, type='ext:redis', url=url).get('user_name') != 'first@example.com':
        sys.exit('Beaker cannot load the session it saved')
    now = time.time()
    if shape == 'realistic':
        rng = random.Random(20261207)
        sessions = (realistic_values(rng, i, created, accessed) for i, created, accessed in realistic_lifetimes(rng, count, now))
    elif shape == 'uniform':
        rng = random.Random(20261201)
        sessions = (session_values(rng, i, now - 30 * 86400 * (i / count) - rng.uniform(0, 30)) for i in range(1, count))
    else:
        sys.exit('shape must be realistic or uniform, not %r' % shape)
    pipe = client.pipeline(transaction=False)
    for n, values in enumerate(sessions, 1):
        key = 'beaker_cache:%s:session' % uuid.UUID(int=rng.getrandbits(128)).hex
        pipe.set(key, pickle.dumps(values))
        if n % 5000 == 0:
            pipe.execute()
    pipe.execute()


def reference(url):
    client = redis.StrictRedis.from_url(url)
    sessions = []
    for key in client.scan_iter('beaker_cache:*:session', count=1000):
        value = client.get(key)
        if value is None:
            continue
        session = pickle.loads(value)
        for name in ('_accessed_time', '_creation_time'):
            if name in session:
                session[name] = dt.datetime.fromtimestamp(session[name])
        sessions.append(str(session))
    print(len(sessions))


def latency(url, stop, out):
    client = redis.StrictRedis.from_url(url)
    trips = []
    while not os.path.exists(stop):
        started = time.perf_counter()
        client.ping()
        trips.append(time.perf_counter() - started)
        time.sleep(0.005)
    with open(out, 'w') as f:
        json.dump(trips, f)


if __name__ == '__main__':
    {'write': write, 'reference': reference, 'latency': latency}[sys.argv[1]](*sys.argv[2:])
