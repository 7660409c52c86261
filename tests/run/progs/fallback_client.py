#!/usr/bin/env python3
"""Real clients of the stdlib's local fallbacks (tests/run/fallbacks-*.test.sh),
run as resources of the program under test, with the connection strings
run mode gives them.

usage: fallback_client.py mariadb TAG   ConnectionStrings__orders (MySqlConnector
                                        format): creates table notes if missing, inserts
                                        TAG, prints "notes: A B ..." (every row, in order)
       fallback_client.py rabbitmq TAG  ConnectionStrings__mq (amqp://): declares queue
                                        q-TAG, publishes TAG, consumes it, prints
                                        "consumed: BODY"
       fallback_client.py nginx PATH    WEB_URL: GET PATH, prints "status: N" and the body
Any failure: a traceback and exit status 1."""
import os
import sys

mode, arg = sys.argv[1], sys.argv[2]

if mode == "mariadb":
    import pymysql

    kv = dict(p.split("=", 1) for p in os.environ["ConnectionStrings__orders"].split(";") if p)
    db = pymysql.connect(host=kv["Server"], port=int(kv["Port"]), user=kv["User ID"], password=kv["Password"],
                         database=kv["Database"], connect_timeout=10, autocommit=True)
    with db.cursor() as c:
        c.execute("CREATE TABLE IF NOT EXISTS notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(64) NOT NULL)")
        c.execute("INSERT INTO notes (body) VALUES (%s)", (arg,))
        c.execute("SELECT body FROM notes ORDER BY id")
        print("notes:", " ".join(r[0] for r in c.fetchall()), flush=True)
    db.close()
elif mode == "rabbitmq":
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(os.environ["ConnectionStrings__mq"]))
    ch = conn.channel()
    q = "q-" + arg
    ch.queue_declare(queue=q, auto_delete=False)
    ch.basic_publish(exchange="", routing_key=q, body=arg.encode())
    body = None
    for _ in range(50):
        method, _props, body = ch.basic_get(queue=q, auto_ack=True)
        if method:
            break
        conn.sleep(0.1)
    print("consumed:", body.decode() if body else "(nothing)", flush=True)
    ch.queue_delete(queue=q)
    conn.close()
elif mode == "nginx":
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(os.environ["WEB_URL"] + arg, timeout=10) as r:
            print("status:", r.status)
            print(r.read().decode(), flush=True)
    except urllib.error.HTTPError as e:
        print("status:", e.code, flush=True)
else:
    sys.exit("unknown mode " + mode)
