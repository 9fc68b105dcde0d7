"""Cluster mode: ingest nodes, analysis workers and API nodes as separate processes.

They share PostgreSQL (everything Vigil stores, the backlog included) and talk over NATS
JetStream (segment jobs, dead letters, alert events); a worker reads a segment's bytes from
the ingest node that recorded it, over that node's internal endpoint.
"""
