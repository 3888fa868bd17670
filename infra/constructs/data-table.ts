import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** How a table is kept: taken by DataTable and by every construct that makes tables. */
export interface TableKeeping {
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  /** A customer-managed key for the tables; the AWS-managed key when absent. */
  readonly encryptionKey?: kms.IKey;
}

export interface DataTableProps extends TableKeeping {
  readonly partitionKey: dynamodb.Attribute;
  readonly timeToLiveAttribute?: string;
  /** A change stream (24 h of every item change), for consumers such as events out. */
  readonly stream?: dynamodb.StreamViewType;
}

/** A DynamoDB table with Tandem's defaults: on-demand, encrypted, point-in-time recovery on. */
export class DataTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DataTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: props.partitionKey,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: props.timeToLiveAttribute,
      stream: props.stream,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });
  }
}

/**
 * Item-level `actions` on the table itself — not on its indexes, which `Table.grant` would add as
 * `index/*` — plus use of its customer-managed key when it has one.
 */
export function grantTable(grantee: iam.IGrantable, table: dynamodb.ITable, ...actions: string[]): void {
  iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [table.tableArn] });
  table.encryptionKey?.grantEncryptDecrypt(grantee);
}
