import { App } from 'aws-cdk-lib';
import { SeatBookingStack } from '../lib/stack.ts';

const app = new App();
new SeatBookingStack(app, 'SeatBooking', {
  local: app.node.tryGetContext('local') === 'true',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
