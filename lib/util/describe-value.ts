/** A short description of a bad value for an error message: `"text"`, `42`, `function foo`, `an instance of Map`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'function') {
    return `function ${value.name || '(anonymous)'}`;
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  if (typeof value === 'object' && value !== null) {
    return value.constructor?.name ? `an instance of ${value.constructor.name}` : 'an object';
  }
  return String(value);
}
