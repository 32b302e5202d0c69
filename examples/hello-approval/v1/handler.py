"""Day 1's hello: it approves."""


def hello(event, context):
    return "Approved"
