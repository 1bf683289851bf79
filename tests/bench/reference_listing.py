#!/usr/bin/python3
"""The Python reference for the listing benchmark: what the original BeakerHelpers (2010) did.

    reference_listing.py URL [SECONDS]

A SQLAlchemy select of the table ordered by accessed (with SECONDS, only the rows accessed within
that many seconds, as `-Timeout` filters), pickle.loads of every row, and the conversion of
_accessed_time/_creation_time to datetimes; prints the number of sessions.
"""
import datetime as dt
import os
import pickle
import sys

os.environ.setdefault('SQLALCHEMY_SILENCE_UBER_WARNING', '1')

import sqlalchemy


def main(url, seconds=None):
    url = sqlalchemy.engine.make_url(url)
    if url.get_backend_name() == 'mysql' and url.get_driver_name() != 'pymysql':
        url = url.set(drivername='mysql+pymysql')
    engine = sqlalchemy.create_engine(url)
    table = sqlalchemy.Table('beaker_cache', sqlalchemy.MetaData(), autoload_with=engine)
    sessions = []
    with engine.connect() as c:
        query = sqlalchemy.select(table.c.namespace, table.c.data).order_by(table.c.accessed)
        if seconds is not None:
            query = query.where(table.c.accessed >= dt.datetime.now() - dt.timedelta(seconds=float(seconds)))
        for row in c.execute(query):
            session = pickle.loads(row.data).get('session', {})
            for key in ('_accessed_time', '_creation_time'):
                if key in session:
                    session[key] = dt.datetime.fromtimestamp(session[key])
            sessions.append((row.namespace, session))
    print(len(sessions))


if __name__ == '__main__':
    main(*sys.argv[1:3])
