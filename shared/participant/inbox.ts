import { type ProtocolRecordHandler, protocolRecordHandler } from '../adapters/sqs-records';
import { envInt, envString } from '../env';
import type { ParticipantMessage } from '../protocol';
import { MalformedParticipantMessageError, parseParticipantMessage } from './shell';

/**
 * A participant inbox's record handler (a Lambda participant's, a relay's): messages parsed and
 * checked to be this participant's (else poison: to the DLQ at once, with the error), the DLQ and
 * receive limit from the environment (PARTICIPANT_DLQ_URL, MAX_RECEIVE_COUNT).
 */
export function inboxRecordHandler(
  inbox: Omit<ProtocolRecordHandler<ParticipantMessage>, 'dlqUrl' | 'maxReceiveCount' | 'parse'> & {
    readonly participantId: string;
    readonly env: NodeJS.ProcessEnv;
  },
) {
  const { participantId, env, ...handler } = inbox;
  return protocolRecordHandler<ParticipantMessage>({
    ...handler,
    dlqUrl: envString(env, 'PARTICIPANT_DLQ_URL'),
    ...(env.MAX_RECEIVE_COUNT ? { maxReceiveCount: envInt(env, 'MAX_RECEIVE_COUNT', 1, 1000) } : {}),
    parse: (body) => {
      const message = parseParticipantMessage(body);
      if (message.participantId !== participantId) {
        throw new MalformedParticipantMessageError(
          `message for ${message.participantId} reached ${participantId}`,
        );
      }
      return message;
    },
  });
}
