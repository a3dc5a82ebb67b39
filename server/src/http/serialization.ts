import { type Options, SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type Serializer = (document: unknown) => string;

/**
 * Response serializers (fast-json-stringify, as Fastify builds them), kept per schema object for
 * the life of the process. Compiling one is the largest part of starting an app (every route's
 * responses), and the schemas are module constants, so a second app in the same process (the test
 * suite builds hundreds; a restart in place) reuses the first one's. A serializer depends only on
 * its schema here: the app registers no shared schemas (`addSchema`) and no serializer options;
 * when either is given, nothing is kept.
 */
const serializers = new WeakMap<object, Serializer>();

export function buildSerializer(externalSchemas?: unknown, options?: Options) {
  const compile = SerializerSelector()(externalSchemas, options);
  const keepable =
    (!externalSchemas || Object.keys(externalSchemas as object).length === 0) &&
    (!options || Object.keys(options).length === 0);
  return (route: Parameters<typeof compile>[0]): Serializer => {
    const schema = route.schema;
    if (!keepable || typeof schema !== 'object' || schema === null) return compile(route);
    let serializer = serializers.get(schema);
    if (!serializer) {
      serializer = compile(route);
      serializers.set(schema, serializer);
    }
    return serializer;
  };
}
