import { RefusedError, UsageError } from './errors';

/**
 * Which stack and endpoint the tools talk to, and the physical names read from the stack outputs,
 * so an operator never types a table name or a queue URL.
 */

const LOCAL_STACK_NAME = 'Tandem-local';

export interface Target {
  readonly stackName: string;
  /** Undefined: the SDK's own endpoint resolution (real AWS, or AWS_ENDPOINT_URL). */
  readonly endpoint: string | undefined;
}

/**
 * `--endpoint` wins over TANDEM_ENDPOINT, which wins over AWS_ENDPOINT_URL. `--stack` defaults to
 * the local stack only when an endpoint is set; against AWS it is required.
 */
export function resolveTarget(
  options: { readonly stack?: string; readonly endpoint?: string },
  env: NodeJS.ProcessEnv,
): Target {
  const endpoint = (options.endpoint ?? (env.TANDEM_ENDPOINT || env.AWS_ENDPOINT_URL))?.replace(/\/+$/, '');
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new UsageError(`the endpoint must be an http(s) URL, got '${endpoint}'`);
  }
  const stackName = options.stack ?? (endpoint ? LOCAL_STACK_NAME : undefined);
  if (!stackName) {
    throw new UsageError(
      '--stack is required against AWS (e.g. --stack Tandem-dev); it defaults to Tandem-local only when ' +
        'AWS_ENDPOINT_URL, TANDEM_ENDPOINT or --endpoint names an emulator',
    );
  }
  return { stackName, endpoint: endpoint || undefined };
}

/** What the tools need from the stack outputs. */
export interface StackNames {
  readonly stackName: string;
  readonly transactionsTable: string;
  /** The leader slot table; undefined when the stack has no `SlotsTable` output. */
  readonly slotsTable: string | undefined;
  readonly coordinatorQueueUrl: string;
  /** Participant id → inbox URL. */
  readonly participantQueues: Readonly<Record<string, string>>;
  /** Undefined when the stack has no `SlotCount` output. */
  readonly slotCount: number | undefined;
  /** Events out: the bus, and the DLQ of the stream batches given up on; undefined with events=off. */
  readonly eventBusName: string | undefined;
  readonly eventsDlqUrl: string | undefined;
}

export function stackNamesOf(stackName: string, outputs: Readonly<Record<string, string>>): StackNames {
  const required = (key: string) => {
    const value = outputs[key];
    if (!value) {
      throw new RefusedError(
        `stack ${stackName} has no output ${key}: is it a Tandem stack, fully deployed?`,
      );
    }
    return value;
  };
  let participantQueues: Record<string, string> = {};
  if (outputs.ParticipantQueues) {
    try {
      participantQueues = JSON.parse(outputs.ParticipantQueues) as Record<string, string>;
    } catch {
      throw new RefusedError(`stack ${stackName}: output ParticipantQueues is not JSON`);
    }
  }
  const slotCount = outputs.SlotCount === undefined ? undefined : Number(outputs.SlotCount);
  return {
    stackName,
    transactionsTable: required('TransactionsTable'),
    slotsTable: outputs.SlotsTable || undefined,
    coordinatorQueueUrl: required('CoordinatorQueueUrl'),
    participantQueues,
    slotCount:
      slotCount !== undefined && Number.isSafeInteger(slotCount) && slotCount > 0 ? slotCount : undefined,
    eventBusName: outputs.EventBusName || undefined,
    eventsDlqUrl: outputs.EventsDlqUrl || undefined,
  };
}
