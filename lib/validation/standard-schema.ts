import { BadRequestException, type PipeTransform } from '@nestjs/common';

/**
 * The Standard Schema interface (https://standardschema.dev), v1, as zod (3.24+, 4), valibot (1.0+) and arktype
 * (2.0+) implement it. Copied rather than imported, as the spec asks of libraries that accept schemas.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    /** Validates a value: its output, or the issues found. */
    readonly validate: (value: unknown) => StandardSchemaV1.Result<Output> | Promise<StandardSchemaV1.Result<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace StandardSchemaV1 {
  /** What `validate` returns: the output, or the issues. */
  type Result<Output> = SuccessResult<Output> | FailureResult;
  /** A valid value, as the schema outputs it. */
  interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  /** An invalid value: what is wrong with it. */
  interface FailureResult {
    readonly issues: readonly Issue[];
  }
  /** One problem, and where in the value. */
  interface Issue {
    readonly message: string;
    readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
  }
}

/** Whether `value` is a Standard Schema (zod, valibot, arktype, ...). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const standard = (value as { '~standard'?: { version?: unknown; validate?: unknown } } | null | undefined)?.[
    '~standard'
  ];
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    standard?.version === 1 &&
    typeof standard.validate === 'function'
  );
}

/**
 * Validates with a Standard Schema and passes on its output (zod's transforms and defaults apply). A failure is a
 * `BadRequestException` listing each issue as `path: message`, as `ValidationPipe`'s are: a `VALIDATION_FAILED`
 * frame with `details.errors` on a realtime handler, a 400 on an HTTP route.
 */
export class StandardSchemaPipe implements PipeTransform {
  constructor(readonly schema: StandardSchemaV1) {}

  transform(value: unknown): unknown {
    const result = this.schema['~standard'].validate(value);
    return result instanceof Promise ? result.then(unwrap) : unwrap(result);
  }
}

function unwrap(result: StandardSchemaV1.Result<unknown>): unknown {
  if (result.issues === undefined) {
    return result.value;
  }
  throw new BadRequestException(result.issues.map(describeIssue));
}

function describeIssue(issue: StandardSchemaV1.Issue): string {
  const path = (issue.path ?? [])
    .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
    .join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
