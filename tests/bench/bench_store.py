#!/usr/bin/python3
"""Writes a benchmark store: COUNT realistic sessions in Beaker 1.11's ext:database format, quickly.

    bench_store.py write URL COUNT [EMPTY_EVERY]   creates beaker_cache (as Beaker does) and bulk-inserts COUNT rows;
                                          every EMPTY_EVERY-th session holds only Beaker's own keys (a crawler's)
    bench_store.py write-realistic URL COUNT  the same format, shaped like a real table and written as Beaker writes it:
                                          INSERT at creation, UPDATE of accessed and data in place at the last request,
                                          in time order; lifetimes from one request to days-long logins, mixed key sets,
                                          payloads 200 B-4 KB with a long tail
    bench_store.py verify URL             loads 5 sessions through beaker.session.Session and checks them
    bench_store.py write-files DATA_DIR COUNT [SHAPE]  realistic (default) or uniform sessions as Beaker's file backend keeps them
    bench_store.py verify-files DATA_DIR  loads 5 of those through Beaker

Uniform sessions (write, and write-files uniform) are what a logged-in user of a web app keeps (user name and id,
roles, a CSRF token, flash messages, the last page, a datetime), 300-800 bytes pickled, last accessed at a time spread
evenly over 30 days, all with the same keys. Realistic ones (write-realistic, write-files) mix visitors, logins with
optional keys and rows of an older app version, and live from one request to days (realistic_lifetimes).
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
    apply_events(url, ((created, 0, uuid.UUID(int=rng.getrandbits(128)).hex, created, accessed, values)
                       for rng, created, accessed, values in sessions))


def realistic_values(rng, i, created, accessed):
    """One of the key sets a real site's table mixes: a visitor or bot (Beaker's keys, a CSRF token, where it came from),
    a login with optional keys, or a row an older version of the app wrote with other names. Pickled: 200 B to 4 KB,
    most of them 300-800 B, with a long tail."""
    values = {'_accessed_time': accessed, '_creation_time': created, '_domain': None, '_path': '/',
              'csrf_token': uuid.UUID(int=rng.getrandbits(128)).hex}
    kind = rng.random()
    if kind < 0.40:
        values['came_from'] = rng.choice(PAGES) + '?utm_source=' + 'x' * rng.randint(0, 60)
        return values
    if kind < 0.90:
        values.update({'user_name': 'user%d@example.com' % i, 'user_id': 100000 + i, 'full_name': 'User Number %d' % i,
                       'roles': rng.sample(['reader', 'editor', 'admin', 'billing', 'support', 'beta'], rng.randint(1, 4)),
                       'last_login': dt.datetime.fromtimestamp(created)})
        if rng.random() < 0.3:
            values['prefs'] = {'theme': rng.choice(['dark', 'light']), 'lang': rng.choice(['en', 'lt', 'de']), 'page_size': rng.choice([20, 50])}
        if rng.random() < 0.2:
            values['cart'] = [{'sku': 'SKU-%d' % rng.randint(1, 9999), 'qty': rng.randint(1, 3), 'price': rng.randint(100, 99900) / 100}
                              for _ in range(rng.randint(1, 8))]
        if rng.random() < 0.2:
            values['_flash'] = rng.sample(FLASHES, rng.randint(1, 2))
        # A long tail of payload sizes: most pages short, a few with long query strings.
        values['last_page'] = rng.choice(PAGES) + '?' + 'x' * min(3000, int(rng.lognormvariate(4.5, 1.1)))
        return values
    values.update({'username': 'old%d' % i, 'uid': i, 'groups': 'users,staff', 'lang': 'en', 'visits': rng.randint(1, 500),
                   'last_login': dt.datetime.fromtimestamp(created), 'history': [rng.choice(PAGES) for _ in range(rng.randint(1, 10))]})
    return values


def realistic_lifetimes(rng, count, now):
    """(i, created, accessed) of sessions 1..COUNT-1, created evenly over the last 30 days in creation order, each last
    used at the end of a lifetime drawn from what a site sees: one request (45%), minutes (25%), hours (20%), or a
    login kept for days (10%). A session of one request has accessed == created."""
    for i in range(1, count):
        created = now - 30 * 86400 * (1 - i / count)
        life = rng.random()
        span = 0 if life < 0.45 else rng.uniform(60, 1800) if life < 0.70 else rng.uniform(3600, 43200) if life < 0.90 else rng.uniform(86400, 20 * 86400)
        yield i, created, min(now, created + span)


def write_realistic(url, count):
    """Written as Beaker writes: a row INSERTed when a session is created (Beaker's keys only), and UPDATEd in place
    (accessed and data) at its last request, the events in time order; so the table is in creation order and its
    pages hold rows rewritten at all times."""
    rng = random.Random(20261207)
    events = []
    for i, created, accessed in realistic_lifetimes(rng, int(count), time.time()):
        values = realistic_values(rng, i, created, accessed)
        id = uuid.UUID(int=rng.getrandbits(128)).hex
        if accessed == created:
            events.append((created, 0, id, created, accessed, values))
        else:
            first = {'_accessed_time': created, '_creation_time': created, '_domain': None, '_path': '/', 'csrf_token': values['csrf_token']}
            events.append((created, 0, id, created, created, first))
            events.append((accessed, 1, id, created, accessed, values))
    events.sort(key=lambda e: e[0])
    apply_events(url, events)


def apply_events(url, events):
    """The first session saved by Beaker itself (which creates the table), then INSERTs and UPDATEs in time order, in bulk."""
    s = Session({}, type='ext:database', url=url)
    s['user_name'] = 'first@example.com'
    s.save()
    engine = engine_for(url)
    table = sqlalchemy.Table('beaker_cache', sqlalchemy.MetaData(), autoload_with=engine)
    update = table.update().where(table.c.namespace == sqlalchemy.bindparam('ns')).values(
        accessed=sqlalchemy.bindparam('acc'), data=sqlalchemy.bindparam('payload'))
    inserts, updates = [], []

    def flush(c):
        if inserts:
            c.execute(table.insert(), inserts)
            inserts.clear()
        if updates:
            c.execute(update, updates)
            updates.clear()

    with engine.begin() as c:
        for _, kind, id, created, accessed, values in events:
            data = pickle.dumps({'session': values}, pickle.HIGHEST_PROTOCOL)
            if kind == 0:
                inserts.append({'namespace': id, 'accessed': dt.datetime.fromtimestamp(accessed),
                                'created': dt.datetime.fromtimestamp(created), 'data': data})
            else:
                updates.append({'ns': id, 'acc': dt.datetime.fromtimestamp(accessed), 'payload': data})
            if len(inserts) + len(updates) >= 10000:
                flush(c)
        flush(c)
    engine.dispose()


def verify(url):
    engine = engine_for(url)
    table = sqlalchemy.Table('beaker_cache', sqlalchemy.MetaData(), autoload_with=engine)
    with engine.connect() as c:
        ids = [r[0] for r in c.execute(sqlalchemy.select(table.c.namespace).limit(2000))]
    engine.dispose()
    for id in random.Random(1).sample(ids, min(5, len(ids))):
        s = Session({'cookie': ''}, id=id, type='ext:database', url=url)
        if s.is_new or '_creation_time' not in s:
            sys.exit('Beaker cannot load bench session %s' % id)
    print(json.dumps({'verified': min(5, len(ids))}))


def write_files(data_dir, count, shape='realistic'):
    """type = file (docs/storage.md#file): container_file/<a>/<ab>/<id>.cache = pickle.dumps({'session': V}) with the default
    protocol, mtime = last save; container_file_lock/.../<sha1(id)>.lock made at the session's first request.
    SHAPE realistic: the sessions of write-realistic (lifetimes, mixed key sets, long-tailed payloads); uniform: one
    key set, last accessed evenly over 30 days (the file store of 0.5.2's Bench)."""
    import hashlib
    count = int(count)
    now = time.time()
    s = Session({}, type='file', data_dir=data_dir)
    s['user_name'] = 'first@example.com'
    s.save()
    root, locks = os.path.join(data_dir, 'container_file'), os.path.join(data_dir, 'container_file_lock')
    if shape == 'realistic':
        rng = random.Random(20261207)
        sessions = ((accessed, realistic_values(rng, i, created, accessed)) for i, created, accessed in realistic_lifetimes(rng, count, now))
    elif shape == 'uniform':
        rng = random.Random(20261201)
        sessions = ((accessed, session_values(rng, i, accessed)) for i, accessed in ((i, now - 30 * 86400 * (i / count) - rng.uniform(0, 30)) for i in range(1, count)))
    else:
        sys.exit('shape must be realistic or uniform, not %r' % shape)
    for accessed, values in sessions:
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
        if s.is_new or '_creation_time' not in s:
            sys.exit('Beaker cannot load bench session file %s' % id)
    print(json.dumps({'verified': min(5, len(ids))}))


if __name__ == '__main__':
    {'write': write, 'write-realistic': write_realistic, 'verify': verify, 'write-files': write_files, 'verify-files': verify_files}[sys.argv[1]](*sys.argv[2:])
