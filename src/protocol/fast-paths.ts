/**
 * Hand-tuned fast paths of the hottest shapes (a patch, a patch_response): the generic schema walk
 * reads fields by computed key through closures, which costs a patch_response 15% and a patch 20%
 * (bench/decode.ts). These only ever say "surely fine"; anything else goes to the schema, which is
 * what words every issue, so they add no rule of their own. test/protocol/schema.test.ts checks them
 * against the schemas.
 */
import { identifierProblem, idProblem } from './identifiers.js';
import type { FastPath } from './schema.js';
import type { ErrorCode, Op, Patch, PatchResponseMessage } from './types.js';
import { normalizeProps, normalizeValue, propsProblem, valueProblem } from './values.js';

type Loose = Record<string, unknown>;

const isRecord = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const isVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const label = (v: unknown) => identifierProblem(v, 'label') === null;
const id = (v: unknown) => idProblem(v) === null;
const props = (v: unknown) => v === undefined || propsProblem(v) === null;

function acceptsOp(op: unknown): boolean {
  if (!isRecord(op)) return false;
  switch (op.op) {
    case 'create_node':
    case 'upsert_node':
      return label(op.label) && id(op.id) && props(op.properties);
    case 'create_edge':
    case 'upsert_edge':
      return label(op.label) && id(op.id) && id(op.from) && id(op.to) && props(op.properties);
    case 'set_property':
      return (
        (op.target === 'node' || op.target === 'edge') &&
        identifierProblem(op.key, 'property key') === null &&
        id(op.id) &&
        (op.value === null || (op.value !== undefined && valueProblem(op.value) === null))
      );
    case 'delete_node':
    case 'delete_edge':
      return id(op.id);
    default:
      return false;
  }
}

function cleanOp(op: Op): Op {
  switch (op.op) {
    case 'create_node':
    case 'upsert_node':
      return { op: op.op, label: op.label, id: op.id, properties: normalizeProps(op.properties ?? {}) };
    case 'create_edge':
    case 'upsert_edge':
      return {
        op: op.op,
        label: op.label,
        id: op.id,
        from: op.from,
        to: op.to,
        properties: normalizeProps(op.properties ?? {}),
      };
    case 'set_property':
      return {
        op: op.op,
        target: op.target,
        id: op.id,
        key: op.key,
        value: op.value === null ? null : normalizeValue(op.value),
      };
    case 'delete_node':
    case 'delete_edge':
      return { op: op.op, id: op.id };
  }
}

export const fastPatch = (maxOps: number): FastPath<Patch> => ({
  accepts(p) {
    if (!isRecord(p) || !id(p.clientId) || !Number.isSafeInteger(p.seq) || (p.seq as number) < 1) return false;
    if (p.id !== `${p.clientId as string}:${p.seq as number}` || !isVersion(p.baseVersion)) return false;
    const ops = p.ops;
    if (!Array.isArray(ops) || ops.length === 0 || ops.length > maxOps) return false;
    for (let i = 0; i < ops.length; i++) if (!acceptsOp(ops[i])) return false;
    return true;
  },
  clean: (p) => ({ id: p.id, clientId: p.clientId, seq: p.seq, baseVersion: p.baseVersion, ops: p.ops.map(cleanOp) }),
});

export const fastPatchResponse = (isCode: (c: unknown) => c is ErrorCode): FastPath<PatchResponseMessage> => ({
  accepts(m) {
    if (!isRecord(m) || m.type !== 'patch_response' || typeof m.patchId !== 'string') return false;
    switch (m.status) {
      case 'accepted':
        return isVersion(m.version);
      case 'rejected':
        return isCode(m.code) && typeof m.reason === 'string';
      case 'ignored':
        return (
          (m.version === undefined || isVersion(m.version)) &&
          (m.code === undefined || isCode(m.code)) &&
          (m.reason === undefined || typeof m.reason === 'string')
        );
      default:
        return false;
    }
  },
});
