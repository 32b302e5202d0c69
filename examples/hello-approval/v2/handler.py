"""Day 2's hello: it approves with a thumbs up."""


def hello(event, context):
    return "ThumbsUp"
