const PALETTE = ['#d64545', '#d97706', '#15803d', '#0e7490', '#2563eb', '#7c3aed', '#c026d3', '#4b5563'];

/** A stable color per user name: the sample's member info, shown beside the name in the member list. */
export function userColor(name: string): string {
  let hash = 0;
  for (const character of name) {
    hash = (hash * 31 + character.charCodeAt(0)) >>> 0;
  }
  return PALETTE[hash % PALETTE.length];
}
