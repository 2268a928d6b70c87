/**
 * What every method of the protocol declares beside its name and types: who sends it (LSP's `messageDirection`) and,
 * for requests that take one params object, how an error message names that object's fields. No native imports.
 */

/** Who sends a message, as LSP's own method namespaces say it: the server handles `clientToServer` ones. */
export type MessageDirection = 'clientToServer' | 'serverToClient';

type RequiredKeys<P> = { [K in keyof P]-?: object extends Pick<P, K> ? never : K }[keyof P] & string;
type OptionalKeys<P> = Exclude<keyof P & string, RequiredKeys<P>>;
/** A field as a usage message prints it: `uri`, `topK?`, `uris: string[]`, `size?: number`. */
type Field<P> = RequiredKeys<P> | `${RequiredKeys<P>}: ${string}` | `${OptionalKeys<P>}?` | `${OptionalKeys<P>}?: ${string}`;
/** The field names a list of printed fields covers. */
type Named<F> = F extends `${infer K}?${string}` ? K : F extends `${infer K}: ${string}` ? K : F;

/**
 * The params object's fields as usage messages print them, `{uri, topK?}`: required fields bare, optional ones with
 * `?`, an optional `: type` after either. The compiler checks the names against the params interface: a field that
 * is not there, or a required field left out, breaks the build (optional fields may be left out).
 *
 *     export const usage = paramsUsage<ClassifyParams>()('uri', 'topK?'); // '{uri, topK?}'
 */
export function paramsUsage<P>() {
  return <const F extends readonly Field<P>[]>(
    ...fields: F &
      (Exclude<RequiredKeys<P>, Named<F[number]>> extends never ? unknown : { missingRequired: Exclude<RequiredKeys<P>, Named<F[number]>> })
  ): string => `{${fields.join(', ')}}`;
}

/** One request's usage line: `classify needs one params object {uri, topK?}` (the method's last path segment). */
export function usageLine(method: string, usage: string): string {
  return `${method.slice(method.lastIndexOf('/') + 1)} needs one params object ${usage}`;
}
