import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { INVENTORY_COUNTER, LEDGER_COUNTER, Tandem } from 'tandem/cdk';
import { SEAT_REQUESTED } from './events.ts';
import { seats } from './seats.ts';

export interface SeatBookingStackProps extends StackProps {
  /** A local emulator deployment: the API without auth, everything destroyed with the stack. */
  readonly local?: boolean;
}

/** The airline's stack: its seat-booking service, and Tandem with the bank's ledger and the shop's inventory. */
export class SeatBookingStack extends Stack {
  constructor(scope: Construct, id: string, props: SeatBookingStackProps = {}) {
    super(scope, id, props);
    const removalPolicy = props.local ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    const seatsTable = new dynamodb.Table(this, 'Seats', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      removalPolicy,
    });
    const seatsFunction = new NodejsFunction(this, 'SeatsFunction', {
      entry: join(import.meta.dirname, '..', 'lambda', 'seats.ts'),
      runtime: lambda.Runtime.NODEJS_22_X,
      timeout: Duration.seconds(10),
      environment: { SEATS_TABLE: seatsTable.tableName },
      // The AWS SDK goes into the bundle too: a local emulator runs the function as a plain Node
      // process, without the SDK the Lambda runtime has.
      bundling: { externalModules: [] },
    });
    seatsTable.grantReadWriteData(seatsFunction);

    const tandem = new Tandem(this, 'Tandem', {
      api: { auth: props.local ? { type: 'none' } : { type: 'iam' } },
      removalPolicy,
    });
    tandem.addParticipant('ledger', { counter: LEDGER_COUNTER, shards: 2 });
    tandem.addParticipant('inventory', { counter: INVENTORY_COUNTER });
    tandem.addParticipant('seats', { definition: seats, handler: seatsFunction });

    // Bookings also start from the web shop's events, mapped to transactions by our own function.
    const shopBus = new events.EventBus(this, 'ShopBus');
    tandem.addEventIntake('bookings', {
      eventBus: shopBus,
      eventPattern: { source: [SEAT_REQUESTED.source], detailType: [SEAT_REQUESTED.detailType] },
      handler: new NodejsFunction(this, 'BookingIntake', {
        entry: join(import.meta.dirname, '..', 'lambda', 'booking-intake.ts'),
        runtime: lambda.Runtime.NODEJS_22_X,
        timeout: Duration.seconds(30),
        bundling: { externalModules: [] },
      }),
      key: { field: 'detail.bookingId' },
    });

    new CfnOutput(this, 'ApiUrl', { value: tandem.url! });
    new CfnOutput(this, 'SeatsTable', { value: seatsTable.tableName });
    new CfnOutput(this, 'ShopBusName', { value: shopBus.eventBusName });
  }
}
