import type { V1ObjectMeta } from '@kubernetes/client-node';
import { escapeToken } from '../util/pointer.js';
import type { Operation as PatchOperation } from 'fast-json-patch';

type StringMap = Record<string, string>;

const asMap = (v: unknown): StringMap | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as StringMap) : undefined);

/**
 * Copy-on-write edits of a Pod's (or a Pod template's) labels and annotations, for mutators. The
 * request's maps stay untouched; patch() adds only the keys that were set, creating the metadata
 * object or the map where the object has none.
 */
export class PodMetaEdit {
  private labels?: StringMap;
  private annotations?: StringMap;

  /** `pointer` is where the metadata lives; absent when the spec has no metadata to patch. */
  constructor(readonly original: V1ObjectMeta | undefined, readonly pointer: string | undefined) {}

  /** False for bare PodSpecs and virtual specs: nothing can be set. */
  get editable(): boolean {
    return this.pointer !== undefined;
  }

  label(key: string): string | undefined {
    return (this.labels ?? asMap(this.original?.labels))?.[key];
  }

  annotation(key: string): string | undefined {
    return (this.annotations ?? asMap(this.original?.annotations))?.[key];
  }

  /** Sets a label; false when the metadata cannot be patched. */
  setLabel(key: string, value: string): boolean {
    if (!this.editable) return false;
    this.labels = { ...(this.labels ?? asMap(this.original?.labels) ?? {}), [key]: value };
    return true;
  }

  setAnnotation(key: string, value: string): boolean {
    if (!this.editable) return false;
    this.annotations = { ...(this.annotations ?? asMap(this.original?.annotations) ?? {}), [key]: value };
    return true;
  }

  get changed(): boolean {
    return this.labels !== undefined || this.annotations !== undefined;
  }

  /** The metadata as the mutators left it. */
  metadata(): V1ObjectMeta | undefined {
    if (!this.changed) return this.original;
    return {
      ...(this.original ?? {}),
      ...(this.labels ? { labels: this.labels } : {}),
      ...(this.annotations ? { annotations: this.annotations } : {}),
    };
  }

  patch(): PatchOperation[] {
    if (!this.changed || this.pointer === undefined) return [];
    const at = this.pointer;
    if (!asMap(this.original)) {
      const value: Record<string, StringMap> = {};
      if (this.labels) value['labels'] = this.labels;
      if (this.annotations) value['annotations'] = this.annotations;
      return [{ op: 'add', path: at, value }];
    }
    const ops: PatchOperation[] = [];
    const field = (name: 'labels' | 'annotations', edited: StringMap | undefined): void => {
      if (!edited) return;
      const before = asMap(this.original?.[name]);
      if (!before) {
        ops.push({ op: 'add', path: `${at}/${name}`, value: edited });
        return;
      }
      for (const [k, v] of Object.entries(edited)) if (before[k] !== v) ops.push({ op: 'add', path: `${at}/${name}/${escapeToken(k)}`, value: v });
    };
    field('labels', this.labels);
    field('annotations', this.annotations);
    return ops;
  }
}
