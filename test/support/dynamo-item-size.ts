import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

/**
 * An item's size as DynamoDB bills it: per attribute, the UTF-8 bytes of its name plus its value's
 * size — a string its UTF-8 bytes, a number 1 byte plus 1 per two significant digits, a boolean or
 * null 1 byte, a list or map 3 bytes plus 1 per element plus the elements (and a map's key bytes).
 */
export function dynamoItemBytes(item: Record<string, unknown>): number {
  const marshalled = marshall(item, { removeUndefinedValues: true });
  return Object.entries(marshalled).reduce((sum, [name, value]) => sum + utf8(name) + valueBytes(value), 0);
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 0);
  if (value.M !== undefined) {
    return 3 + Object.entries(value.M).reduce((sum, [k, v]) => sum + 1 + utf8(k) + valueBytes(v), 0);
  }
  throw new RangeError(`no size rule for ${JSON.stringify(value)}`);
}

/** Base-100 digit pairs aligned on the decimal point, plus one (plus one more if negative). */
function numberBytes(text: string): number {
  const negative = text.startsWith('-');
  const [whole = '', fraction = ''] = text.replace(/^[-+]/, '').split('.');
  const digits = `${whole}${fraction}`;
  const significant = digits.replace(/^0+/, '').replace(/0+$/, '');
  if (significant === '') return 1;
  const trailingZeros = digits.replace(/^0+/, '').length - significant.length;
  const exponent = trailingZeros - fraction.length;
  let pairs = significant;
  if (exponent % 2 !== 0) pairs += '0';
  if (pairs.length % 2 !== 0) pairs = `0${pairs}`;
  return 1 + pairs.length / 2 + (negative ? 1 : 0);
}
