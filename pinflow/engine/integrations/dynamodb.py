"""DynamoDB, optimized: `arn:aws:states:::dynamodb:getItem|putItem|updateItem|deleteItem`, as AWS
documents it ("Perform DynamoDB CRUD operations with Step Functions").

Parameters are the API's request members; the result is the API's response with the SDK's response
metadata (SdkHttpMetadata, SdkResponseMetadata), as recorded from AWS in LocalStack's DynamoDB
snapshots; errors are `DynamoDB.<Exception>` (`DynamoDB.ConditionalCheckFailedException`). Query, Scan
and the rest go through the SDK integration (`aws-sdk:dynamodb:query`).

IAM: `dynamodb:<Operation>` on the table (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`, with
`/index/NAME` when an index is named); a generated role grants it, as the serverless-step-functions
plugin does (iamStrategies/dynamodb.js).
"""

from __future__ import annotations

from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_service, base

ACTIONS = {"getItem": "GetItem", "putItem": "PutItem", "updateItem": "UpdateItem", "deleteItem": "DeleteItem"}


class DynamoDb(aws_service.Optimized):
    name = "dynamodb"
    botocore = "dynamodb"
    actions = ACTIONS
    dialect = aws_service.Dialect("DynamoDB", "AmazonDynamoDBv2", "AmazonDynamoDBException")
    patterns = frozenset(base.SUFFIXES[s] for action in ACTIONS for s in resources.patterns("dynamodb", action))
