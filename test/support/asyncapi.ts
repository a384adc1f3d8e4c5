/** Whether a diagnostic of `@asyncapi/parser` is an error (severity 0, `DiagnosticSeverity.Error`), not a hint. */
export function isError(diagnostic: { readonly severity: unknown }): boolean {
  return Number(diagnostic.severity) === 0;
}
