"""SQS, optimized: `arn:aws:states:::sqs:sendMessage[.waitForTaskToken]`, as AWS documents it ("Send
messages to an Amazon SQS queue with Step Functions").

A `MessageBody` that is not text is sent as JSON text; with `.waitForTaskToken` the message carries
the token you put in it (`"TaskToken.$": "$$.Task.Token"`) and the Task waits for SendTaskSuccess or
SendTaskFailure. The result is SendMessage's response (`MD5OfMessageBody`, `MessageId`, ...) with the
SDK's response metadata; errors are `SQS.<Exception>` (`SQS.QueueDoesNotExistException`). IAM and the
generated role: `sqs:SendMessage` on the queue the QueueUrl names (`arn:aws:sqs:REGION:ACCOUNT:NAME`),
`*` when it is computed, as the serverless-step-functions plugin grants (iamStrategies/sqs.js).
"""

from __future__ import annotations

from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_service, base


class SendMessage(aws_service.Optimized):
    name = "sqs"
    botocore = "sqs"
    actions = {"sendMessage": "SendMessage"}
    dialect = aws_service.Dialect("SQS", "AmazonSQS", "AmazonSQSException")
    patterns = frozenset(base.SUFFIXES[s] for s in resources.patterns("sqs", "sendMessage"))
