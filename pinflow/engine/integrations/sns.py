"""SNS, optimized: `arn:aws:states:::sns:publish[.waitForTaskToken]`, as AWS documents it ("Publish
messages to an Amazon SNS topic with Step Functions").

A `Message` that is not text is sent as JSON text (AWS serialises it; LocalStack's recorded SNS
snapshots show the JSON message delivered). The result is Publish's response (`MessageId`, and
`SequenceNumber` for FIFO topics) with the SDK's response metadata; errors are `SNS.<Exception>`
(`SNS.NotFoundException`). IAM and the generated role: `sns:Publish` on the topic (or the target ARN),
`*` when it is computed, as the serverless-step-functions plugin grants (iamStrategies/sns.js).
"""

from __future__ import annotations

from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_service, base


class Publish(aws_service.Optimized):
    name = "sns"
    botocore = "sns"
    actions = {"publish": "Publish"}
    dialect = aws_service.Dialect("SNS", "AmazonSNS", "AmazonSNSException")
    patterns = frozenset(base.SUFFIXES[s] for s in resources.patterns("sns", "publish"))
