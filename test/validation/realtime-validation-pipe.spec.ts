import { describe, expect, it } from '@jest/globals';
import { type ArgumentMetadata, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  Allow,
  Equals,
  IsBoolean,
  IsDefined,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import fc from 'fast-check';
import { RealtimeValidationPipe } from 'nestjs-realtime';

class ChatMessage {
  @IsString()
  @Length(1, 12)
  text!: string;
}

class Profile {
  @IsString()
  @MinLength(2)
  @MaxLength(8)
  @Matches(/^[a-z]+$/)
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(150)
  age?: number;

  @IsOptional()
  @IsEmail()
  email?: string;

  @IsIn(['online', 'away'])
  status: string = 'online';

  @Allow()
  note?: unknown;
}

@ValidatorConstraint({ name: 'even' })
class Even implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'number' && value % 2 === 0;
  }
}

class Order {
  @IsDefined()
  @IsNumber()
  @Validate(Even)
  quantity!: number;

  @IsBoolean()
  gift!: boolean;

  @ValidateIf((order: Order) => order.gift === true)
  @IsNotEmpty()
  @IsString()
  wrapping?: string;

  @Equals('v1')
  version!: string;

  get total(): number {
    return this.quantity * 2;
  }
}

/** Falls back: nested validation needs class-transformer's `@Type`. */
class Envelope {
  @ValidateNested()
  @Type(() => ChatMessage)
  message!: ChatMessage;
}

@ValidatorConstraint({ name: 'slow', async: true })
class SlowCheck implements ValidatorConstraintInterface {
  validate(value: unknown): Promise<boolean> {
    return Promise.resolve(value === 'ok');
  }
}

/** Falls back: an asynchronous constraint. */
class Slow {
  @Validate(SlowCheck)
  answer!: string;
}

const DTOS = [ChatMessage, Profile, Order] as const;
const OPTIONS: ValidationPipeOptions[] = [
  {},
  { whitelist: true },
  { whitelist: true, forbidNonWhitelisted: true },
  { transform: true },
  { whitelist: true, transform: true },
];
const KEYS = ['text', 'name', 'age', 'email', 'status', 'note', 'quantity', 'gift', 'wrapping', 'version', 'extra'];

const primitive = fc.oneof(
  fc.string({ maxLength: 14 }),
  fc.stringMatching(/^[a-z]{0,9}$/),
  fc.constantFrom('online', 'away', 'v1', 'a@b.co', 'not-an-email', '', '\uD83D\uDE00', 'a\uFE0F'),
  fc.integer({ min: -5, max: 200 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
/** Per DTO, values close to its rules (and a stray key now and then), so that many payloads pass. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 3 });
const nearlyValid = {
  ChatMessage: fc.record({ text: fc.string({ maxLength: 14 }), extra: sometimes(primitive) }, { requiredKeys: [] }),
  Profile: fc.record(
    {
      name: fc.stringMatching(/^[a-z]{1,9}$/),
      age: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.constant(undefined)),
      email: fc.constantFrom('a@b.co', 'x', undefined, null),
      status: fc.constantFrom('online', 'away', 'busy'),
      note: primitive,
      toString: sometimes(fc.constant('shadowed')),
    },
    { requiredKeys: ['name'] },
  ),
  Order: fc.record(
    {
      quantity: fc.integer({ min: 0, max: 9 }),
      gift: fc.boolean(),
      wrapping: fc.constantFrom('', 'paper', undefined),
      version: fc.constantFrom('v1', 'v1', 'v2'),
      total: sometimes(fc.integer()),
    },
    { requiredKeys: ['quantity', 'gift', 'version'] },
  ),
};
const payload = (dto: (typeof DTOS)[number]) =>
  fc.oneof(
    nearlyValid[dto.name as keyof typeof nearlyValid],
    nearlyValid[dto.name as keyof typeof nearlyValid],
    fc.dictionary(fc.constantFrom(...KEYS), primitive),
    fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(primitive, fc.array(primitive, { maxLength: 2 }))),
    primitive,
  );

type Outcome = { ok: true; value: unknown; className: unknown } | { ok: false; error: unknown };

async function outcome(run: () => unknown): Promise<Outcome> {
  try {
    const value = await run();
    return { ok: true, value, className: (value as object | null | undefined)?.constructor?.name };
  } catch (error) {
    return { ok: false, error: (error as { getResponse?: () => unknown }).getResponse?.() ?? error };
  }
}

const metadataOf = (metatype: new () => unknown): ArgumentMetadata => ({ type: 'body', metatype });

describe('RealtimeValidationPipe', () => {
  it.each(OPTIONS.map((options) => [JSON.stringify(options), options] as const))(
    'accepts, rejects and returns what ValidationPipe does, with options %s',
    async (_name, options) => {
      const reference = new ValidationPipe(options);
      const compiled = new RealtimeValidationPipe(options);
      for (const dto of DTOS) {
        expect(await compiled.prepare(dto)).toBeUndefined();
      }
      const numRuns = 600;
      let compiledAnswers = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...DTOS).chain((dto) => fc.tuple(fc.constant(dto), payload(dto))),
          async ([dto, value]) => {
            // Each pipe gets its own copy: ValidationPipe strips keys from what it is given.
            const copy = () => structuredClone(value);
            const expected = await outcome(() => reference.transform(copy(), metadataOf(dto)));
            const actual = await outcome(() => {
              const result: unknown = compiled.transform(copy(), metadataOf(dto));
              compiledAnswers += result instanceof Promise ? 0 : 1;
              return result;
            });
            expect(actual).toStrictEqual(expected);
          },
        ),
        { numRuns },
      );
      // The comparison covered the compiled path, not only the fallback to ValidationPipe.
      expect(compiledAnswers).toBeGreaterThan(numRuns / 20);
    },
  );

  it('answers a valid flat payload at once, without a promise', async () => {
    const pipe = new RealtimeValidationPipe({ whitelist: true });
    await pipe.prepare(ChatMessage);
    const result: unknown = pipe.transform({ text: 'hi', extra: 1 }, metadataOf(ChatMessage));
    expect(result).toEqual({ text: 'hi' });
  });

  it('rejects with the errors ValidationPipe lists', async () => {
    const pipe = new RealtimeValidationPipe();
    await pipe.prepare(ChatMessage);
    const failure = await outcome(() => pipe.transform({ text: '' }, metadataOf(ChatMessage)));
    expect(failure).toEqual({
      ok: false,
      error: { statusCode: 400, error: 'Bad Request', message: ['text must be longer than or equal to 1 characters'] },
    });
  });

  it('names each DTO that stays on class-validator, and why, and still validates it', async () => {
    const pipe = new RealtimeValidationPipe({ whitelist: true });
    expect(await pipe.prepare(Envelope)).toMatch(/class-transformer decorators/);
    expect(await pipe.prepare(Slow)).toMatch(/"answer".*asynchronous/);
    expect(await pipe.prepare(class Bare {})).toMatch(/no validation decorators/);
    await expect(pipe.transform({ message: { text: '' } }, metadataOf(Envelope))).rejects.toMatchObject({
      response: { message: ['message.text must be longer than or equal to 1 characters'] },
    });
    await expect(pipe.transform({ answer: 'ok' }, metadataOf(Slow))).resolves.toEqual({ answer: 'ok' });
  });

  it('keeps every value on ValidationPipe when an option changes what it checks', async () => {
    const pipe = new RealtimeValidationPipe({ skipMissingProperties: true });
    await pipe.prepare(ChatMessage);
    const result: unknown = pipe.transform({}, metadataOf(ChatMessage));
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toEqual({});
  });
});
