import { describe, expect, it } from '@jest/globals';
import 'reflect-metadata';
import { Exclude, Expose, Transform, Type } from 'class-transformer';
import { loadTransformerStorage, mayTransform } from '../../lib/internals/class-transformer-internals.js';

// The installed class-transformer's storage, as the validation pipe and the AsyncAPI schemas load it.
const defaultMetadataStorage = await loadTransformerStorage();

class Plain {
  text!: string;
}
class Typed {
  @Type(() => Plain)
  plain!: Plain;
}
class Transformed {
  @Transform(({ value }) => String(value))
  text!: string;
}
class Exposed {
  @Expose({ name: 'body' })
  text!: string;
}
@Exclude()
class Excluded {
  text!: string;
}
class InheritsTransform extends Transformed {}

describe("class-transformer's storage, as the compiled validation reads it", () => {
  it('tells classes it would build as they are from those it would change', () => {
    expect(mayTransform(defaultMetadataStorage, Plain)).toBe(false);
    for (const target of [Typed, Transformed, Exposed, Excluded, InheritsTransform]) {
      expect([target.name, mayTransform(defaultMetadataStorage, target)]).toEqual([target.name, true]);
    }
  });

  it('answers "may transform" for a storage of another shape, so validation takes the exact path', () => {
    expect(mayTransform({}, Plain)).toBe(true);
    expect(mayTransform(undefined, Plain)).toBe(true);
  });
});
