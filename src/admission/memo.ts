import { hash } from 'node:crypto';
import type { Engine, Verdict } from '../engine/engine.js';
import { denialMessage, type AdmissionReviewResponse } from './respond.js';
import type { AdmissionRequest, AdmissionVersion } from './review.js';

/**
 * The review memo: the answer to a review whose text is, but for the fields that name one instance,
 * the text of a review judged before, under the same policies and the same cluster view.
 *
 * Controllers create Pods in bursts from one template: a ReplicaSet scaling a vLLM Deployment from
 * 0 to 40, a Job's parallel Pods, a RayCluster's worker group. The API server sends one review per
 * Pod, and those reviews differ only in the request's uid and, once the name is generated (the
 * validating call), in the Pod's name, uid and creationTimestamp. Neither the rules nor the
 * mutators read those fields (test/admission/memo.test.ts holds every corpus review to that), so
 * the memo keys a review by a digest of its text with exactly those values cut out, and answers a
 * repeat without parsing the body or running the engine: the same verdict, the same patch, the
 * answer carrying the new uid and, in a denial's first line, the new name.
 *
 * Why a key can only match a review that would get the same answer:
 *  - the text outside the cut values is compared whole (SHA-256 of it, led by the list of the fields
 *    cut), so two reviews with one key differ only inside the cut values;
 *  - a cut value is a plain JSON string (or null) whose characters are checked (no quote, no
 *    escape), so the text around it parses to the same structure, and the scan that found it
 *    follows the JSON structure (strings, escapes, nesting) from the start of the body: it cuts
 *    `request.uid`, `request.name` and `request.object.metadata.{name,uid,creationTimestamp}` and
 *    nothing at another path; a key written twice in one object before the scan stops, or a key
 *    spelled with escapes that decodes to one of these names, makes the review one the memo skips;
 *  - names are cut only for core Pods (request.kind group "" and kind Pod), and an answer is kept
 *    only when no finding, note or patch mentions the Pod's name (a message that quotes it would be
 *    wrong for the next Pod);
 *  - the scan stops after `request.object.metadata`'s creationTimestamp (or its labels, annotations,
 *    owner references, finalizers or managedFields, which the API server writes after it): what
 *    follows stays in the key as written, so if a cut key is written again further on (JSON.parse
 *    keeps the last), two reviews of one key hold the same value there and parse alike;
 *  - what the scan read (the cut values, a core Pod's kind) is checked against the parsed review
 *    before its answer is kept: a body whose later text changes what JSON.parse makes of it is
 *    judged each time;
 *  - the memo is emptied whenever the policies (the engine) or anything in the cluster view change,
 *    and a review that had to wait for a namespace read is not kept.
 * Bodies the scan cannot read (not an object, other field types) are judged as usual.
 */

const QUOTE = 34;
const BACKSLASH = 92;
const LBRACE = 123;
const RBRACE = 125;
const LBRACK = 91;
const RBRACK = 93;
const COMMA = 44;
const COLON = 58;

/** Marks a cut in the key text: a raw control character cannot occur in JSON text. */
const CUT = '\u0001';

const UID = /^"[A-Za-z0-9-]{1,64}"$/;
// DNS subdomain (a Pod name), as the API server validates it.
const NAME = /^"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?"$/;
const TIME = /^(?:null|"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)")$/;

/**
 * Keys of the paths the scan follows (one bit each, to see a key written twice): one spelled with
 * escapes is decoded before it is compared.
 */
const WATCHED = new Map(['request', 'uid', 'name', 'kind', 'object', 'metadata', 'creationTimestamp'].map((k, i) => [k, 1 << i]));
/** ObjectMeta fields the API server writes after name, uid and creationTimestamp. */
const AFTER_TIMESTAMP = new Set(['labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields']);

/** The text cannot be scanned: the memo is skipped for it. */
const FAIL = -1;
/** The scan has all it needs: what follows stays in the key as it is. */
const STOP = -2;

function ws(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

/** Index past the string starting at i (a quote), or FAIL. */
function stringEnd(t: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = t.indexOf('"', from);
    if (q < 0) return FAIL;
    let n = 0;
    for (let b = q - 1; t.charCodeAt(b) === BACKSLASH; b--) n++;
    if ((n & 1) === 0) return q + 1;
    from = q + 1;
  }
}

/** Index past the value starting at i, or FAIL. */
function valueEnd(t: string, i: number): number {
  const c = t.charCodeAt(i);
  if (c === QUOTE) return stringEnd(t, i);
  if (c === LBRACE || c === LBRACK) {
    let depth = 0;
    for (let j = i; j < t.length;) {
      const d = t.charCodeAt(j);
      if (d === QUOTE) {
        j = stringEnd(t, j);
        if (j < 0) return FAIL;
        continue;
      }
      if (d === LBRACE || d === LBRACK) depth++;
      else if (d === RBRACE || d === RBRACK) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return FAIL;
  }
  let j = i;
  for (; j < t.length; j++) {
    const d = t.charCodeAt(j);
    if (d === COMMA || d === RBRACE || d === RBRACK || d === 32 || d === 10 || d === 13 || d === 9) break;
  }
  return j > i ? j : FAIL;
}

/**
 * Walks the members of the object at i; visit gets each key and the index of its value and returns
 * the index past the value, FAIL or STOP. Returns the index past the object, FAIL or STOP.
 */
function members(t: string, i: number, visit: (key: string, at: number) => number): number {
  if (t.charCodeAt(i) !== LBRACE) return FAIL;
  i = ws(t, i + 1);
  if (t.charCodeAt(i) === RBRACE) return i + 1;
  let seen = 0;
  for (;;) {
    if (t.charCodeAt(i) !== QUOTE) return FAIL;
    const end = stringEnd(t, i);
    if (end < 0) return FAIL;
    const key = t.slice(i + 1, end - 1);
    if (key.includes('\\')) {
      let decoded: string;
      try {
        decoded = JSON.parse(`"${key}"`) as string;
      } catch {
        return FAIL;
      }
      if (WATCHED.has(decoded)) return FAIL;
    }
    const bit = WATCHED.get(key);
    if (bit !== undefined) {
      if ((seen & bit) !== 0) return FAIL;
      seen |= bit;
    }
    i = ws(t, end);
    if (t.charCodeAt(i) !== COLON) return FAIL;
    const at = ws(t, i + 1);
    const next = visit(key, at);
    if (next < 0) return next;
    i = ws(t, next);
    const c = t.charCodeAt(i);
    if (c === COMMA) i = ws(t, i + 1);
    else if (c === RBRACE) return i + 1;
    else return FAIL;
  }
}

type Field = 'uid' | 'requestName' | 'name' | 'objectUid' | 'created';
const FIELD_CODE: Record<Field, string> = { uid: 'u', requestName: 'r', name: 'n', objectUid: 'o', created: 'c' };

interface Span { field: Field; start: number; end: number }

/** A review's key, and the instance values cut out of it. */
export interface ReviewKey {
  digest: string;
  uid: string;
  /** request.name, when it was cut. */
  requestName?: string;
  /** request.object.metadata.name, when it was cut. */
  name?: string;
  objectUid?: string;
  /** creationTimestamp as written: a string, or null. */
  created?: string | null;
  /** Whether the names were cut (a Pod). */
  podNames: boolean;
}

/** The key of a review text; undefined when the memo cannot judge this text. */
export function reviewKey(text: string, maxLength = 1 << 20): ReviewKey | undefined {
  if (text.length > maxLength) return undefined;
  const t = text;
  const spans: Span[] = [];
  let kind: string | undefined;
  let group: string | undefined;
  let uidSeen = false;
  const value = (field: Field, at: number, shape: RegExp): number => {
    const end = valueEnd(t, at);
    if (end < 0) return FAIL;
    if (shape.test(t.slice(at, end))) spans.push({ field, start: at, end });
    else if (field === 'uid') return FAIL;
    return end;
  };
  const metadata = (at: number): number => members(t, at, (key, v) => {
    if (key === 'name') return value('name', v, NAME);
    if (key === 'uid') return value('objectUid', v, UID);
    if (key === 'creationTimestamp') {
      const end = value('created', v, TIME);
      return end < 0 ? end : STOP;
    }
    if (AFTER_TIMESTAMP.has(key)) return STOP;
    return valueEnd(t, v);
  });
  const object = (at: number): number => members(t, at, (key, v) => {
    if (key !== 'metadata') return valueEnd(t, v);
    const end = metadata(v);
    if (end === FAIL) return FAIL;
    // Stop only once the parts the key needs from before the object are known.
    return uidSeen && kind !== undefined ? STOP : end === STOP ? STOP : end;
  });
  const request = (at: number): number => members(t, at, (key, v) => {
    if (key === 'uid') {
      uidSeen = true;
      return value('uid', v, UID);
    }
    if (key === 'name') return value('requestName', v, NAME);
    if (key === 'kind') {
      return members(t, v, (k, w) => {
        const end = valueEnd(t, w);
        // As JSON.parse reads them: the last of a repeated key counts ('kind' repeated fails above).
        if (k === 'kind') kind = end > 0 && t.charCodeAt(w) === QUOTE ? t.slice(w + 1, end - 1) : undefined;
        if (k === 'group') group = end > 0 ? t.slice(w, end) : undefined;
        return end;
      });
    }
    if (key === 'object') return t.charCodeAt(v) === LBRACE ? object(v) : valueEnd(t, v);
    return valueEnd(t, v);
  });
  const top = members(t, ws(t, 0), (key, v) => (key === 'request' ? request(v) : valueEnd(t, v)));
  if (top === FAIL || !uidSeen) return undefined;
  // The object scan may have stopped inside metadata before the request's uid or kind was known:
  // that is a body the API server does not write, and it is simply not memoised.
  const uidSpan = spans.find((s) => s.field === 'uid');
  if (!uidSpan) return undefined;
  // A core Pod (`"group":""`, as the API server writes it); a CRD of kind Pod keeps its names.
  const podNames = kind === 'Pod' && group === '""';
  const cut = podNames ? spans : [uidSpan];
  const key: ReviewKey = { digest: '', uid: t.slice(uidSpan.start + 1, uidSpan.end - 1), podNames };
  // The fields cut, in order, lead the digested text: with them, two texts of one key have their cuts
  // at the same places (a raw control character in a body the memo has not parsed cannot stand in
  // for a cut), so the second is the first with other plain strings in those places.
  let keyText = `${cut.map((s) => FIELD_CODE[s.field]).join('')}:`;
  let from = 0;
  for (const s of cut) {
    keyText += t.slice(from, s.start) + CUT;
    from = s.end;
    const raw = t.slice(s.start, s.end);
    const str = raw === 'null' ? null : raw.slice(1, -1);
    if (s.field === 'requestName') key.requestName = str ?? undefined;
    else if (s.field === 'name') key.name = str ?? undefined;
    else if (s.field === 'objectUid') key.objectUid = str ?? undefined;
    else if (s.field === 'created') key.created = str;
  }
  keyText += t.slice(from);
  key.digest = hash('sha256', keyText, 'base64');
  return key;
}

/** A judged review as the handler offers it: the whole request and verdict (the memo keeps less). */
export type Judged = Omit<MemoEntry, 'text'>;

/** What the handler keeps of a judged review to answer its repeats. */
export interface MemoEntry {
  apiVersion: AdmissionVersion;
  /** The namespace the engine judged it in. */
  namespace: string;
  /** The request as judged (uid and name are the first instance's; the rest is every repeat's). */
  request: AdmissionRequest;
  /** The verdict without its patch (the answer carries it encoded), for metrics and logs. */
  verdict: Verdict;
  decision: string;
  response: AdmissionReviewResponse;
  /**
   * The answer's JSON text in parts around the uid (and the name in a denial), made at the first
   * repeat; null when it could not be made (the text would not round-trip).
   */
  text?: { parts: string[]; slots: ('uid' | 'name')[] } | null;
}

const COLD_AFTER = 256;
/** Characters of the longest answer kept (1,024 per endpoint: at most 16 MiB in all). */
const MAX_ANSWER = 8192;
const SAMPLE = 8;

/** A bounded memo of answers, emptied when the policies or the cluster view change. */
export class ReviewMemo {
  private readonly entries = new Map<string, MemoEntry>();
  /**
   * Keys judged once and not kept: an answer is kept at the second sighting of its key, so reviews
   * that never repeat (StatefulSet Pods, indexed Jobs) cost a digest each and no kept answer.
   */
  private readonly seen = new Set<string>();
  /**
   * Keyed reviews since the last repeat. After COLD_AFTER of them the traffic is taken not to repeat
   * and only one review in SAMPLE is keyed (a digest costs about a twentieth of a judgement), until
   * a repeat shows again.
   */
  private sinceHit = 0;
  private tick = 0;
  private engine: Engine | undefined;
  private version = -1;

  constructor(readonly capacity: number) {}

  /** Empties the memo when the engine or the cluster view is not the one its answers came from. */
  sync(engine: Engine | undefined, version: number): void {
    if (engine === this.engine && version === this.version) return;
    this.entries.clear();
    this.seen.clear();
    this.engine = engine;
    this.version = version;
  }

  /** Whether to key this review: every one, but one in SAMPLE when nothing has repeated lately. */
  shouldKey(): boolean {
    if (this.capacity <= 0) return false;
    return this.sinceHit < COLD_AFTER || (++this.tick & (SAMPLE - 1)) === 0;
  }

  get(key: ReviewKey): MemoEntry | undefined {
    const e = this.entries.get(key.digest);
    if (e) this.sinceHit = 0;
    else if (this.sinceHit < COLD_AFTER) this.sinceHit++;
    return e;
  }

  /**
   * Keeps the answer to a judged review the second time its key is judged, when the instance values
   * the key cut are what the parsed review holds and no part of the answer mentions the Pod's name:
   * `first` (noted, not kept), `kept`, or `refused`.
   */
  offer(key: ReviewKey, judged: Judged, engine: Engine, version: number): 'first' | 'kept' | 'refused' {
    const { request, verdict, response } = judged;
    // Judged by another engine or view than the memo now serves (a reload during the review): not kept.
    if (engine !== this.engine || version !== this.version || this.capacity <= 0) return 'refused';
    if (!this.seen.delete(key.digest)) {
      if (this.seen.size >= 4 * this.capacity) this.seen.delete(this.seen.values().next().value as string);
      this.seen.add(key.digest);
      return 'first';
    }
    if (!cutMatches(key, request) || mentionsName(key, verdict)) return 'refused';
    // A long answer (a pathological spec's tens of findings) is not worth keeping: the memo stays small.
    if (JSON.stringify(response).length > MAX_ANSWER) return 'refused';
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key.digest, { ...judged, request: stub(request), verdict: { ...verdict, patch: [] } });
    return 'kept';
  }
}

/** The parts of a request an answer and a log line read; not the object (the memo must not hold bodies). */
function stub(r: AdmissionRequest): AdmissionRequest {
  const generateName = (r.object?.['metadata'] as { generateName?: unknown } | undefined)?.generateName;
  return {
    uid: r.uid, kind: r.kind, name: r.name, namespace: r.namespace, operation: r.operation, dryRun: r.dryRun,
    ...(r.subResource !== undefined ? { subResource: r.subResource } : {}),
    object: typeof generateName === 'string' ? { metadata: { generateName } } : null,
  };
}

function cutMatches(key: ReviewKey, r: AdmissionRequest): boolean {
  if (r.uid !== key.uid) return false;
  if (!key.podNames) return true;
  // What the scan read as a core Pod is one as parsed too (a later repeat of request.kind would win).
  if (r.kind?.kind !== 'Pod' || r.kind?.group !== '') return false;
  const meta = r.object?.['metadata'] as { name?: unknown; uid?: unknown; creationTimestamp?: unknown } | undefined;
  if ('requestName' in key && r.name !== key.requestName) return false;
  if ('name' in key && meta?.name !== key.name) return false;
  if ('objectUid' in key && meta?.uid !== key.objectUid) return false;
  if ('created' in key && meta?.creationTimestamp !== key.created) return false;
  return true;
}

function mentionsName(key: ReviewKey, v: Verdict): boolean {
  const names = [key.name, key.requestName].filter((n): n is string => typeof n === 'string' && n.length > 0);
  if (names.length === 0) return false;
  const texts: string[] = [];
  for (const f of [...v.denials, ...v.warnings, ...v.recorded]) texts.push(f.message, f.fix ?? '', f.path);
  for (const n of v.notes) texts.push(n.description);
  texts.push(...v.assumptions, v.skipped ?? '', v.overBudget ?? '');
  if (v.patch.length > 0) texts.push(JSON.stringify(v.patch));
  return texts.some((s) => names.some((n) => s.includes(n)));
}

const UID_MARK = '\u0002';
const NAME_MARK = '\u0003';
// How JSON.stringify writes the marks (control characters are escaped).
const MARKS = /\\u000([23])/g;

/**
 * The answer to a repeat as JSON text: the kept answer's text with this review's uid (and name).
 * Made once per entry from the answer with marks in place of uid and name, and checked once against
 * the answer made the long way; undefined when it cannot be (answerRepeat then gives the object).
 */
export function repeatText(e: MemoEntry, key: ReviewKey): string | undefined {
  if (e.text === undefined) {
    const marked = JSON.stringify(answerRepeat(e, { ...key, uid: UID_MARK, ...(key.podNames && 'requestName' in key ? { requestName: NAME_MARK } : {}) }).response);
    const parts: string[] = [];
    const slots: ('uid' | 'name')[] = [];
    let from = 0;
    for (const m of marked.matchAll(MARKS)) {
      parts.push(marked.slice(from, m.index));
      slots.push(m[1] === '2' ? 'uid' : 'name');
      from = m.index + m[0].length;
    }
    parts.push(marked.slice(from));
    e.text = { parts, slots };
    if (fill(e.text, key) !== JSON.stringify(answerRepeat(e, key).response)) e.text = null;
  }
  return e.text === null ? undefined : fill(e.text, key);
}

function fill(t: { parts: string[]; slots: ('uid' | 'name')[] }, key: ReviewKey): string {
  let out = t.parts[0] as string;
  for (let i = 0; i < t.slots.length; i++) out += (t.slots[i] === 'uid' ? key.uid : key.requestName ?? '') + (t.parts[i + 1] as string);
  return out;
}

/** The request of a repeat, for its log line: the kept one with this review's uid and name. */
export function repeatRequest(e: MemoEntry, key: ReviewKey): AdmissionRequest {
  const request: AdmissionRequest = { ...e.request, uid: key.uid };
  if (key.podNames && 'requestName' in key) request.name = key.requestName;
  return request;
}

/** The answer to a repeat: the kept answer with this review's uid, and its name in a denial's first line. */
export function answerRepeat(e: MemoEntry, key: ReviewKey): { response: AdmissionReviewResponse; request: AdmissionRequest } {
  const request = repeatRequest(e, key);
  const response = { ...e.response.response, uid: key.uid };
  if (response.status && key.podNames && 'requestName' in key) {
    response.status = { ...response.status, message: denialMessage(e.verdict, request) };
  }
  return { response: { apiVersion: e.apiVersion, kind: 'AdmissionReview', response }, request };
}
