#!/usr/bin/python3
"""Writes a benchmark store: COUNT realistic sessions in Beaker 1.11's ext:database format, quickly.

    bench_store.py write URL COUNT [EMPTY_EVERY]   creates beaker_cache (as Beaker does) and bulk-inserts COUNT rows;
                                          every EMPTY_EVERY-th session holds only Beaker's own keys (a crawler's)
    bench_store.py write-realistic URL COUNT  the same format, shaped like a real table: rows in creation order (Beaker
                                          INSERTs at creation and UPDATEs accessed and data in place), lifetimes from one
                                          request to days-long logins, mixed key sets, payloads 200 B-4 KB with a long tail
    bench_store.py verify URL             loads 5 sessions through beaker.session.Session and checks them
    bench_store.py write-files DATA_DIR COUNT    the same sessions as Beaker's file backend keeps them
    bench_store.py verify-files DATA_DIR  loads 5 of those through Beaker

Each session is what a web app keeps (user name and id, roles, a CSRF token, flash messages, the
last page, a datetime), 300-800 bytes pickled, last accessed at a time spread evenly over 30 days.
The first row is saved by Beaker itself (which creates the table); the rest are the same pickled
layout Beaker's SQLAlchemy PickleType writes, inserted in bulk because a million Session.save()
calls would take an hour. `verify` proves Beaker reads them as its own.
"""
import datetime as dt
import json
import os
import pickle
import random
import sys
import time
import uuid

os.environ.setdefault('SQLALCHEMY_SILENCE_UBER_WARNING', '1')

import sqlalchemy
from beaker.session import Session

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))

PAGES = ['/', '/cart', '/orders', '/account/settings', '/search?q=beaker', '/products/4711', '/checkout/payment']
FLASHES = ['Saved.', 'Your order is on its way.', 'Password changed.', 'Item added to your cart.', 'Welcome back!']


def engine_for(url):
    url = sqlalchemy.engine.make_url(url)
    if url.get_backend_name() == 'mysql' and url.get_driver_name() != 'pymysql':
        url = url.set(drivername='mysql+pymysql')
    return sqlalchemy.create_engine(url)


def session_values(rng, i, accessed):
    created = accessed - rng.uniform(60, 7200)
    return {
        'user_name': 'user%d@example.com' % i,
        'user_id': 100000 + i,
        'roles': rng.sample(['reader', 'editor', 'admin', 'billing', 'support', 'beta'], rng.randint(1, 4)),
        'csrf_token': uuid.UUID(int=rng.getrandbits(128)).hex,
        '_flash': rng.sample(FLASHES, rng.randint(0, 3)),
        'last_page': rng.choice(PAGES) + '?' + 'x' * rng.randint(0, 300),
        'last_login': dt.datetime.fromtimestamp(created),
        '_accessed_time': accessed,
        '_creation_time': created,
        '_domain': None,
        '_path': '/',
    }


def write(url, count, empty_every='0'):
    count, empty_every = int(count), int(empty_every)
    rng = random.Random(20261201)
    now = time.time()

    def rows():
        for i in range(1, count):
            accessed = now - 30 * 86400 * (i / count) - rng.uniform(0, 30)
            values = session_values(rng, i, accessed)
            if empty_every and i % empty_every == 0:
                values = {k: v for k, v in values.items() if k in ('_accessed_time', '_creation_time', '_domain', '_path')}
            yield rng, values['_creation_time'], accessed, values

    insert(url, rows())


def insert(url, sessions):
    """The first session saved by Beaker itself (which creates the table), then the rest in bulk as its PickleType writes them."""
    s = Session({}, type='ext:database', url=url)
    s['user_name'] = 'first@example.com'
    s.save()
    engine = engine_for(url)
    table = sqlalchemy.Table('beaker_cache', sqlalchemy.MetaData(), autoload_with=engine)
    batch = []
    with engine.begin() as c:
        for rng, created, accessed, values in sessions:
            batch.append({'namespace': uuid.UUID(int=rng.getrandbits(128)).hex,
                          'accessed': dt.datetime.fromtimestamp(accessed),
                          'created': dt.datetime.fromtimestamp(created),
                          'data': pickle.dumps({'session': values}, pickle.HIGHEST_PROTOCOL)})
            if len(batch) == 10000:
                c.execute(table.insert(), batch)
                batch = []
        if batch:
            c.execute(table.insert(), batch)
    engine.dispose()


def realistic_values(rng, i, created, accessed):
    """One of the key sets a real site's table mixes: a visitor or bot (Beaker's keys and perhaps a CSRF token), a login
    with optional keys, or a row an older version of the app wrote with other names."""
    values = {'_accessed_time': accessed, '_creation_time': created, '_domain': None, '_path': '/'}
    kind = rng.random()
    if kind < 0.40:
        if rng.random() < 0.5:
            values['csrf_token'] = uuid.UUID(int=rng.getrandbits(128)).hex
        return values
    if kind < 0.90:
        values.update({'user_name': 'user%d@example.com' % i, 'user_id': 100000 + i,
                       'roles': rng.sample(['reader', 'editor', 'admin', 'billing', 'support', 'beta'], rng.randint(1, 4))})
        if rng.random() < 0.5:
            values['csrf_token'] = uuid.UUID(int=rng.getrandbits(128)).hex
        if rng.random() < 0.3:
            values['prefs'] = {'theme': rng.choice(['dark', 'light']), 'lang': rng.choice(['en', 'lt', 'de']), 'page_size': rng.choice([20, 50])}
        if rng.random() < 0.2:
            values['cart'] = [{'sku': 'SKU-%d' % rng.randint(1, 9999), 'qty': rng.randint(1, 3)} for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.2:
            values['_flash'] = rng.sample(FLASHES, rng.randint(1, 2))
        # A long tail of payload sizes: most pages short, a few with long query strings.
        values['last_page'] = rng.choice(PAGES) + '?' + 'x' * min(3500, int(rng.lognormvariate(3.5, 1.2)))
        return values
    values.update({'username': 'old%d' % i, 'uid': i, 'groups': 'users,staff', 'lang': 'en',
                   'last_login': dt.datetime.fromtimestamp(created)})
    return values


def write_realistic(url, count):
    count = int(count)
    rng = random.Random(20261207)
    now = time.time()

    def rows():
        for i in range(1, count):
            created = now - 30 * 86400 * (1 - i / count)
            life = rng.random()
            span = 0 if life < 0.45 else rng.uniform(60, 1800) if life < 0.70 else rng.uniform(3600, 43200) if life < 0.90 else rng.uniform(86400, 20 * 86400)
            accessed = min(now, created + span)
            yield rng, created, accessed, realistic_values(rng, i, created, accessed)

    insert(url, rows())


def verify(url):
    engine = engine_for(url)
    table = sqlalchemy.Table('beaker_cache', sqlalchemy.MetaData(), autoload_with=engine)
    with engine.connect() as c:
        ids = [r[0] for r in c.execute(sqlalchemy.select(table.c.namespace).limit(2000))]
    engine.dispose()
    for id in random.Random(1).sample(ids, min(5, len(ids))):
        s = Session({'cookie': ''}, id=id, type='ext:database', url=url)
        if s.is_new or not str(s.get('user_name', '')).endswith('@example.com'):
            sys.exit('Beaker cannot load bench session %s' % id)
    print(json.dumps({'verified': min(5, len(ids))}))


def write_files(data_dir, count):
    """type = file (docs/storage.md#file): container_file/<a>/<ab>/<id>.cache = pickle.dumps({'session': V}) with the default
    protocol, mtime = last save; container_file_lock/.../<sha1(id)>.lock made at the session's first request."""
    import hashlib
    count = int(count)
    rng = random.Random(20261201)
    now = time.time()
    s = Session({}, type='file', data_dir=data_dir)
    s['user_name'] = 'first@example.com'
    s.save()
    root, locks = os.path.join(data_dir, 'container_file'), os.path.join(data_dir, 'container_file_lock')
    for i in range(1, count):
        accessed = now - 30 * 86400 * (i / count) - rng.uniform(0, 30)
        values = session_values(rng, i, accessed)
        id = uuid.UUID(int=rng.getrandbits(128)).hex
        folder = os.path.join(root, id[0], id[0:2])
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, id + '.cache')
        with open(path, 'wb') as f:
            f.write(pickle.dumps({'session': values}))
        os.utime(path, (accessed, accessed))
        h = hashlib.sha1(id.encode('utf-8')).hexdigest()
        lock_folder = os.path.join(locks, h[0], h[0:2])
        os.makedirs(lock_folder, exist_ok=True)
        lock = os.path.join(lock_folder, h + '.lock')
        open(lock, 'wb').close()
        os.utime(lock, (values['_creation_time'], values['_creation_time']))


def verify_files(data_dir):
    root = os.path.join(data_dir, 'container_file')
    ids = [name[:-len('.cache')] for _, _, files in os.walk(root) for name in files if name.endswith('.cache')][:2000]
    for id in random.Random(1).sample(ids, min(5, len(ids))):
        s = Session({'cookie': ''}, id=id, type='file', data_dir=data_dir)
        if s.is_new or not str(s.get('user_name', '')).endswith('@example.com'):
            sys.exit('Beaker cannot load bench session file %s' % id)
    print(json.dumps({'verified': min(5, len(ids))}))


if __name__ == '__main__':
    {'write': write, 'write-realistic': write_realistic, 'verify': verify, 'write-files': write_files, 'verify-files': verify_files}[sys.argv[1]](*sys.argv[2:])
