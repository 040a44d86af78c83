// The TypeScript type of the JSON a schema admits, read from the schema itself when it is written
// `as const` (or inline in a call): `generate(prompt, { jsonSchema: { type: 'object', … } })`
// types `result.json` without a hand-written interface. Follows the grammar's reading of the
// schema (lib/generation/json-schema.ts): declared properties and no others unless
// additionalProperties says so, prefixItems tuples, enum/const literals, unions, local $refs.

/** The type of a JSON value a schema admits; `unknown` where the schema does not narrow it. */
export type FromJsonSchema<S> = Resolve<S, S, []>;

type JsonObject = { [key: string]: unknown };
type Depth = readonly unknown[];
/** $ref chains deeper than this (recursive schemas) end in unknown rather than a compiler error. */
type MaxDepth = 8;

type Resolve<S, Root, D extends Depth> = boolean extends S
  ? unknown
  : S extends true
    ? unknown
    : S extends false
      ? never
      : D['length'] extends MaxDepth
        ? unknown
        : S extends { readonly $ref: infer R extends string }
          ? Resolve<Lookup<Root, R>, Root, [...D, unknown]>
          : S extends { readonly const: infer C }
            ? Mutable<C>
            : S extends { readonly enum: readonly (infer E)[] }
              ? Mutable<E>
              : S extends { readonly anyOf: readonly (infer A)[] }
                ? Resolve<A, Root, D>
                : S extends { readonly oneOf: readonly (infer A)[] }
                  ? Resolve<A, Root, D>
                  : S extends { readonly allOf: infer A extends readonly unknown[] }
                    ? AllOf<A, Root, D>
                    : S extends { readonly type: readonly (infer T)[] }
                      ? Typed<S, T, Root, D>
                      : S extends { readonly type: infer T }
                        ? Typed<S, T, Root, D>
                        : S extends
                              | { readonly properties: unknown }
                              | { readonly required: unknown }
                              | { readonly additionalProperties: unknown }
                          ? ObjectOf<S, Root, D>
                          : S extends { readonly items: unknown } | { readonly prefixItems: unknown }
                            ? ArrayOf<S, Root, D>
                            : S extends
                                  | { readonly pattern: unknown }
                                  | { readonly format: unknown }
                                  | { readonly minLength: unknown }
                                  | { readonly maxLength: unknown }
                              ? string
                              : unknown;

/** `#/$defs/Name` or `#/definitions/Name` of the root schema; anything else is unknown. */
type Lookup<Root, Ref extends string> = Ref extends '#'
  ? Root
  : Ref extends `#/$defs/${infer Name}`
    ? Root extends { readonly $defs: { readonly [K in Name]: infer T } }
      ? T
      : true
    : Ref extends `#/definitions/${infer Name}`
      ? Root extends { readonly definitions: { readonly [K in Name]: infer T } }
        ? T
        : true
      : true;

/** One `type` (distributes over a list of types). */
type Typed<S, T, Root, D extends Depth> = T extends 'string'
  ? string
  : T extends 'number' | 'integer'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'object'
          ? ObjectOf<S, Root, D>
          : T extends 'array'
            ? ArrayOf<S, Root, D>
            : unknown;

type RequiredKeys<S> = S extends { readonly required: readonly (infer K)[] } ? K : never;

/** Declared properties (required ones required), and others only as additionalProperties allows. */
type ObjectOf<S, Root, D extends Depth> = S extends { readonly properties: infer P extends object }
  ? Flatten<
      { -readonly [K in keyof P as K extends RequiredKeys<S> ? K : never]: Resolve<P[K], Root, D> } & {
        -readonly [K in keyof P as K extends RequiredKeys<S> ? never : K]?: Resolve<P[K], Root, D>;
      } & Additional<S, Root, D, true>
    >
  : S extends { readonly required: readonly unknown[] }
    ? Flatten<{ -readonly [K in RequiredKeys<S> & string]: unknown } & Additional<S, Root, D, true>>
    : Additional<S, Root, D, false>;

/** What additionalProperties adds: nothing (false, or absent beside declared properties), or an index. */
type Additional<S, Root, D extends Depth, Declared extends boolean> = S extends {
  readonly additionalProperties: infer A;
}
  ? A extends false
    ? unknown
    : Declared extends true
      ? JsonObject
      : { [key: string]: Resolve<A, Root, D> }
  : Declared extends true
    ? unknown
    : JsonObject;

/** prefixItems as a tuple (then items, if any), or items as a list. */
type ArrayOf<S, Root, D extends Depth> = S extends { readonly prefixItems: infer P extends readonly unknown[] }
  ? S extends { readonly items: infer I }
    ? I extends false
      ? TupleOf<P, Root, D>
      : [...TupleOf<P, Root, D>, ...Resolve<I, Root, D>[]]
    : TupleOf<P, Root, D>
  : S extends { readonly items: infer I extends readonly unknown[] }
    ? TupleOf<I, Root, D>
    : S extends { readonly items: infer I }
      ? I extends false
        ? []
        : Resolve<I, Root, D>[]
      : unknown[];

type TupleOf<P extends readonly unknown[], Root, D extends Depth> = {
  -readonly [K in keyof P]: Resolve<P[K], Root, D>;
};

type AllOf<A extends readonly unknown[], Root, D extends Depth> = A extends readonly [infer First, ...infer Rest]
  ? Resolve<First, Root, D> & AllOf<Rest, Root, D>
  : unknown;

/** Literal types from an `as const` schema, without its readonly modifiers. */
type Mutable<T> = T extends readonly unknown[]
  ? { -readonly [K in keyof T]: Mutable<T[K]> }
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;

type Flatten<T> = T extends object ? { [K in keyof T]: T[K] } : T;
