/**
 * Object keys as EventBridge delivers them, resolved to the key the object really has.
 *
 * Sources disagree on whether `detail.object.key` of an S3 "Object Created" EventBridge event is URL-encoded:
 * - S3's classic notifications (SNS/SQS/Lambda) URL-encode the key, form style ("red flower.jpg" ->
 *   "red+flower.jpg"): https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 * - The EventBridge message structure page documents the fields but says nothing about encoding:
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 * - Powertools for AWS Lambda (Python) decodes the EventBridge key with unquote_plus
 *   (aws_lambda_powertools/utilities/data_classes/s3_event.py, S3EventBridgeNotificationObject.key).
 * - A captured EventBridge event shows raw ':' characters in the key, which form encoding would have escaped
 *   ("raw/health-check/2023-08-08T14:03:40.532432.zip",
 *   https://gist.github.com/vincentclaes/7a5eb53acc05b316c86769fed25d4e1a), and a fix in AWS's own
 *   guidance-for-medialake-on-aws (pull request #21) stopped decoding EventBridge keys because literal '+' in
 *   file names broke.
 * - boto3#1204: "it's impossible to accurately detect url encoding" from the key alone.
 *
 * So neither reading can be assumed. The rule: parse the key as delivered; when its decoded form differs and
 * could also be a data key of the lake, one S3 HeadObject decides; the key recorded is the one the object has.
 * A real object is never rejected for its encoding; a key longer than S3's 1,024 bytes is rejected before any
 * write (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
 */
import { type ResolvedConfig, parseRawKey, type ParsedKey } from '../config';
import type { ObjectStorePort } from '../common';

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

export type ResolvedKey =
  | { ok: true; key: string; parsed: Extract<ParsedKey, { ok: true }>; form: 'literal' | 'decoded'; headed: boolean }
  | { ok: false; key: string; reason: string };

/** The form-encoded reading of a key ('+' is a space), or undefined when it is not valid URL encoding. */
export function formDecode(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

const bytesOf = (key: string): number => Buffer.byteLength(key, 'utf8');

function tooLong(key: string): string {
  return `key is ${bytesOf(key)} bytes; S3 keys are at most ${MAX_KEY_BYTES} bytes`;
}

/**
 * Resolves the event's key to the object's real key and its dataset/partition, or says why it is not a data key
 * of the lake. Calls `objects.headObject` at most once, only when both readings are plausible; without an object
 * store the literal reading is preferred.
 */
export async function resolveEventKey(
  config: ResolvedConfig,
  bucket: string,
  delivered: string,
  objects?: ObjectStorePort,
): Promise<ResolvedKey> {
  const decoded = formDecode(delivered);
  const literal = parseRawKey(config, delivered);
  const literalFits = literal.ok && bytesOf(delivered) <= MAX_KEY_BYTES;
  const decodedParse = decoded !== undefined && decoded !== delivered ? parseRawKey(config, decoded) : undefined;
  const decodedFits = decoded !== undefined && decodedParse?.ok === true && bytesOf(decoded) <= MAX_KEY_BYTES;

  const accept = (key: string, parsed: ParsedKey, form: 'literal' | 'decoded', headed: boolean): ResolvedKey =>
    parsed.ok ? { ok: true, key, parsed, form, headed } : { ok: false, key, reason: parsed.reason };

  if (decoded !== undefined && decodedParse && decodedFits) {
    // Both readings differ and the decoded one is a plausible data key: ask S3 which object exists.
    if (!objects)
      return literalFits
        ? accept(delivered, literal, 'literal', false)
        : accept(decoded, decodedParse, 'decoded', false);
    if (literalFits) {
      const literalExists = (await objects.headObject(bucket, delivered)) === 'exists';
      return literalExists
        ? accept(delivered, literal, 'literal', true)
        : accept(decoded, decodedParse, 'decoded', true);
    }
    const decodedExists = (await objects.headObject(bucket, decoded)) === 'exists';
    if (decodedExists) return accept(decoded, decodedParse, 'decoded', true);
    // No object under the decoded key: the delivered key is the object's, and it is not a data key.
    return rejection(delivered, literal);
  }
  if (literalFits) return accept(delivered, literal, 'literal', false);
  return rejection(delivered, literal, decoded, decodedParse);
}

/** Why neither reading of the key is a data key of the lake (length first: no key over S3's limit is real). */
function rejection(delivered: string, literal: ParsedKey, decoded?: string, decodedParse?: ParsedKey): ResolvedKey {
  const shortest = decoded !== undefined && bytesOf(decoded) < bytesOf(delivered) ? decoded : delivered;
  if (bytesOf(shortest) > MAX_KEY_BYTES) return { ok: false, key: delivered, reason: tooLong(shortest) };
  if (literal.ok) return { ok: false, key: delivered, reason: tooLong(delivered) };
  if (decoded === undefined)
    return { ok: false, key: delivered, reason: `${literal.reason} (and the key is not valid URL encoding)` };
  if (decodedParse?.ok && bytesOf(decoded) > MAX_KEY_BYTES)
    return { ok: false, key: delivered, reason: tooLong(decoded) };
  if (decodedParse && !decodedParse.ok && decodedParse.reason !== literal.reason)
    return {
      ok: false,
      key: delivered,
      reason: `${literal.reason}; decoded as ${JSON.stringify(decoded)}: ${decodedParse.reason}`,
    };
  return { ok: false, key: delivered, reason: literal.reason };
}
