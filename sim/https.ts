import { InfrastructureError } from '../shared/errors';
import type { Faults } from '../shared/faults';
import {
  answerOf,
  BranchCall,
  messageOfCall,
  type Phase,
  pathOf,
  signCall,
  verifyCall,
} from '../shared/https/contract';
import { type HttpPort, type HttpRequest, type HttpResponse, relayMessage } from '../shared/https/relay';
import {
  handleParticipantMessage,
  type ParticipantKind,
  type ParticipantStore,
  parseParticipantMessage,
} from '../shared/participant';
import { type ParticipantReply, ProtocolAssertionError } from '../shared/protocol';
import type { InvariantChecker } from './checker';
import { type Invocation, type Node, type SimCore, T0_MS } from './core';
import { RELAY_FUNCTION_TIMEOUT_MS } from './plan';
import type { Runtime } from './runtime';
import type { SimMessage } from './sqs';

/** The relay stops this long before its function's timeout (its pacing deadline). */
const RELAY_DEADLINE_MARGIN_MS = 1_000;
/** The HTTPS participant's shared secret (the relay signs with it, the endpoint verifies). */
const HTTPS_SECRET = 'sim-shared-secret';

/** The endpoint's barrier: no drop or crash points of its own (the world's port calls crash it). */
const NO_FAULTS: Faults = { crashPoint: () => {}, drop: () => false };

function httpResponse(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, body, header: (name) => headers[name] };
}

/** The world's ports the relay and the endpoint use: the participant's store, the coordinator's queue. */
export interface HttpsHost {
  participantStore(inv: Invocation, participantId: string): ParticipantStore;
  sendReply(inv: Invocation, reply: ParticipantReply, slot: number | undefined): Promise<void>;
}

/**
 * The HTTPS participant (plan.https): the relay function that consumes its inbox (the real
 * relayMessage), the faulty network between the relay and the participant's endpoint, and the
 * endpoint, which runs the real barrier over the participant's store — so every check of that
 * store holds across the relay too.
 */
export class HttpsParticipant {
  constructor(
    private readonly core: SimCore,
    private readonly runtime: Runtime,
    private readonly checker: InvariantChecker,
    private readonly host: HttpsHost,
    private readonly kind: ParticipantKind,
    private readonly endpointNode: Node,
  ) {}

  /**
   * The relay function with one message of the HTTPS participant's inbox: the real relayMessage
   * over the simulated network, the relay node's clock and the world's timers. Lambda ends it at
   * its timeout, wherever it is (a crash: the message comes back after the visibility timeout).
   */
  async runRelay(inv: Invocation, participantId: string, message: SimMessage): Promise<void> {
    const { settings } = this.core.plan.https!;
    const parsed = parseParticipantMessage(message.body);
    if (parsed.participantId !== participantId) {
      throw new ProtocolAssertionError(
        `message for ${parsed.participantId} reached ${participantId}'s relay`,
      );
    }
    const clock = inv.node.clock;
    const deadlineMs = clock.nowMs() + RELAY_FUNCTION_TIMEOUT_MS - RELAY_DEADLINE_MARGIN_MS;
    this.core.at(this.core.now + RELAY_FUNCTION_TIMEOUT_MS, () => {
      if (inv.dead) return;
      this.core.stats.relayKilled++;
      this.core.log(`${inv.name} ✗ killed at its function's timeout`);
      this.runtime.crash(inv);
    });
    const outcome = await relayMessage(parsed, settings, {
      http: this.httpPort(inv),
      signer: { headers: async (call) => signCall(HTTPS_SECRET, call, clock.nowMs()) },
      clock,
      pacing: this.runtime.pacing(inv, deadlineMs),
      replies: {
        send: (reply, slot) => {
          this.checker.checkRelayReply(reply);
          return this.host.sendReply(inv, reply, slot);
        },
      },
      onAttempt: ({ phase, attempt, elapsedMs, verdict }) => {
        const said = verdict.kind === 'retry' ? `retry (${verdict.reason})` : verdict.kind;
        this.core.log(`   ↳ relay ${phase} ${parsed.txId} attempt ${attempt} (${elapsedMs} ms): ${said}`);
      },
    });
    if (outcome.kind === 'gave-up') {
      this.core.log(
        `   ↳ relay gave up on ${outcome.phase} ${parsed.txId} after ${outcome.attempts} call(s)`,
      );
      if (outcome.phase === 'try') {
        this.core.stats.relayTryGiveUps++;
        this.checker.triesGivenUp.add(parsed.txId);
        return;
      }
      this.core.stats.relayFinishGiveUps++;
      if (!this.core.switches.relayGiveUp) {
        const ack: ParticipantReply = {
          type: 'Ack',
          txId: parsed.txId,
          participantId,
          outcome: outcome.phase === 'confirm' ? 'COMMITTED' : 'ABORTED',
        };
        await this.host.sendReply(inv, ack, parsed.slot);
      }
    }
  }

  private endpointDown(): boolean {
    const outage = this.core.plan.https?.outage;
    return (
      outage !== null &&
      outage !== undefined &&
      this.core.now >= T0_MS + outage.fromMs &&
      this.core.now < T0_MS + outage.untilMs
    );
  }

  /**
   * The network between the relay and the endpoint. While faults last a call may: find the
   * endpoint down (refused at once, a 503, or no answer), meet a busy front (425/429/503, with or
   * without Retry-After), be lost on its way (a timeout, nothing happened), reach the endpoint
   * twice, be slow on either leg (past the relay's timeout: before or after the effect), or lose
   * its answer (a timeout, the effect happened). The relay itself may crash with the answer in hand.
   */
  private httpPort(inv: Invocation): HttpPort {
    const https = this.core.plan.https!;
    return {
      send: (request) =>
        new Promise<HttpResponse>((resolve, reject) => {
          if (inv.dead) return;
          this.core.stats.httpCalls++;
          const call = JSON.parse(request.body) as { phase: Phase; transactionId: string };
          const { phase } = call;
          const what = `POST ${pathOf(request.url)} ${call.transactionId}`;
          let settled = false;
          const arrive = (result: HttpResponse | Error) => {
            if (settled || inv.dead) return;
            settled = true;
            if (this.core.faultsOn && this.core.rng.chance(this.core.plan.crashPerCall)) {
              this.core.log(`${inv.name} ✗ CRASH with the answer to ${what} in hand`);
              this.runtime.crash(inv);
              return;
            }
            this.core.log(
              `${inv.name} ${what} → ${result instanceof Error ? result.message : result.status}`,
            );
            if (result instanceof Error) return reject(result);
            if (!this.core.switches.relayFinishRefusals && phase !== 'try' && result.status === 409) {
              return resolve(httpResponse(200, result.body));
            }
            resolve(result);
          };
          this.core.at(this.core.now + request.timeoutMs, () => {
            if (settled || inv.dead) return;
            this.core.stats.httpTimeouts++;
            if (!this.core.switches.relayTimeouts) return arrive(httpResponse(200, '{"ok":true}'));
            arrive(new Error(`${what} timed out after ${request.timeoutMs} ms`));
          });
          const legMs = () =>
            this.core.faultsOn && this.core.rng.chance(https.slow)
              ? this.core.rng.int(100, 2 * request.timeoutMs)
              : this.runtime.latencyMs();
          if (this.endpointDown()) {
            this.core.stats.httpDown++;
            const kind = https.outage!.kind;
            if (kind === 'refused') {
              this.core.stats.httpRefused++;
              this.core.at(this.core.now + this.core.rng.int(1, 20), () =>
                arrive(new Error('connect ECONNREFUSED')),
              );
            }
            if (kind === '503')
              this.core.at(this.core.now + legMs(), () => arrive(httpResponse(503, 'unavailable')));
            return;
          }
          if (this.core.faultsOn && this.core.rng.chance(https.busy)) {
            this.core.stats.httpBusy++;
            const status = this.core.rng.pick([425, 429, 503]);
            const headers: Record<string, string> = this.core.rng.chance(0.5)
              ? { 'retry-after': String(this.core.rng.int(0, 2)) }
              : {};
            this.core.at(this.core.now + legMs(), () =>
              arrive(httpResponse(status, '{"title":"busy"}', headers)),
            );
            return;
          }
          if (this.core.faultsOn && this.core.rng.chance(https.offContract)) {
            this.core.stats.httpOffContract++;
            const status =
              phase === 'try' ? this.core.rng.pick([400, 404]) : this.core.rng.pick([409, 400, 404]);
            this.core.at(this.core.now + legMs(), () => arrive(httpResponse(status, '{"title":"not here"}')));
            return;
          }
          if (this.core.faultsOn && this.core.rng.chance(https.lostRequest)) {
            this.core.log(`${inv.name} ${what} lost on its way`);
            return;
          }
          const copies = this.core.faultsOn && this.core.rng.chance(https.duplicateRequest) ? 2 : 1;
          if (copies > 1) this.core.stats.httpDuplicates++;
          for (let copy = 0; copy < copies; copy++) {
            this.core.at(this.core.now + legMs(), () =>
              this.serve(request, (result) => {
                if (copy > 0) return; // the duplicate's answer goes to a closed connection
                if (this.core.faultsOn && this.core.rng.chance(https.lostAnswer)) {
                  this.core.stats.httpLostAnswers++;
                  this.core.log(`   ↳ the answer to ${what} is lost`);
                  return;
                }
                this.core.at(this.core.now + legMs(), () => arrive(result));
              }),
            );
          }
        }),
    };
  }

  /**
   * The endpoint, as the participant SDK serves it: verify the signature, read the call, run the
   * barrier (handleParticipantMessage over the participant's store, through the world's port
   * calls: they may fail, crash or contend), answer with answerOf. A crash resets the connection;
   * a failure answers 500.
   */
  private serve(request: HttpRequest, answer: (result: HttpResponse | Error) => void): void {
    const participantId = this.core.plan.https!.participant;
    const { kind } = this;
    const node = this.endpointNode;
    const path = pathOf(request.url);
    let answered: { readonly status: number; readonly body: string } | undefined;
    const inv = this.runtime.spawn(
      node,
      'endpoint',
      `POST ${path} ${request.body}`,
      async (inv) => {
        const verified = verifyCall({
          method: request.method,
          path,
          body: request.body,
          header: (name) => request.headers[name],
          secrets: [HTTPS_SECRET],
          nowMs: node.clock.nowMs(),
        });
        if (!verified.ok) {
          this.core.violation(
            `https: the endpoint refused the relay's signature on ${path}: ${verified.reason}`,
          );
          answered = { status: 401, body: verified.reason };
          return;
        }
        const parsed = BranchCall.safeParse(JSON.parse(request.body));
        if (
          !parsed.success ||
          parsed.data.branch !== participantId ||
          !path.endsWith(`/${parsed.data.phase}`)
        ) {
          this.core.violation(
            `https: the relay sent ${participantId} a call it cannot read: ${path} ${request.body}`,
          );
          answered = { status: 400, body: 'bad call' };
          return;
        }
        const outcome = await handleParticipantMessage(messageOfCall(parsed.data as BranchCall), {
          store: this.host.participantStore(inv, participantId),
          kind,
          clock: node.clock,
          replies: { send: async () => {} },
          faults: NO_FAULTS,
          pacing: this.runtime.pacing(inv),
        });
        answered = answerOf(outcome.reply);
      },
      (error) => {
        if (error === null) return answer(httpResponse(answered!.status, answered!.body));
        if (error instanceof ProtocolAssertionError) {
          this.core.violation(
            `protocol assertion at ${participantId}'s endpoint on ${path} ${request.body}: ${error.message}`,
          );
        } else if (!(error instanceof InfrastructureError)) {
          this.core.violation(
            `unexpected ${String(error)} at ${participantId}'s endpoint on ${path} ${request.body}`,
          );
        }
        answer(httpResponse(500, '{"title":"internal error"}'));
      },
    );
    inv.onCrash = () => answer(new Error('socket hang up'));
  }
}
