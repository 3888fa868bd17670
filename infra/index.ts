/**
 * `tandem/cdk`: the constructs a team places in its own CDK stack.
 */
export { Coordinator, type CoordinatorProps } from './constructs/coordinator';
export { Participant, type ParticipantProps } from './constructs/participant';
