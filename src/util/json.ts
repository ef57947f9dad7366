/** Reading parsed JSON whose shape is not guaranteed (custom resources, files, hostile reviews). */

export type Json = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The value when it is a JSON object, else undefined. */
export function asObject(v: unknown): Json | undefined {
  return isObject(v) ? v : undefined;
}

/** The value when it is a whole number of at least 0, else undefined. */
export function wholeNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}
