/**
 * The DynamoDB actions every route function is granted on the connection table, whether the
 * stack comes from `switchboard build` (an IAM policy statement) or the CDK construct (a
 * table grant). The table's indexes are included by both.
 */
export const CONNECTION_TABLE_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:Query",
  "dynamodb:Scan",
] as const;
