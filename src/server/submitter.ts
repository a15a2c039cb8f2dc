import type { ErrorCode, Patch, SyncRequestMessage } from '../protocol/types.js';
import type { Peer } from './authority.js';

/**
 * Where a connection's messages go once decoded: the authority itself in a single process, or a
 * cluster gateway's forwarder to the sequencer. Either answers through the peer.
 */
export interface Submitter {
  submitPatch(peer: Peer, patch: Patch, receivedAt: number): void;
  /** A patch whose envelope is sound but whose ops are not: settled as a rejection, in order. */
  submitInvalid(peer: Peer, clientId: string, seq: number, code: ErrorCode, reason: string, receivedAt: number): void;
  submitSyncRequest(peer: Peer, request: SyncRequestMessage): void;
  /** The peer's connection closed. */
  forget(peer: Peer): void;
}
