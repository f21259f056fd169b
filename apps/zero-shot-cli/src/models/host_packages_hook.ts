/**
 * A module-resolution hook (Node's `module.register`), run on the loader thread: an `import` of a package
 * the zero-shot command shares with its plugins (TensorFlow.js, `@moevl/*`) from a file outside the
 * command's own installation resolves to the command's copy, as a peer dependency would. A plugin developed
 * in its own project with its own `node_modules/@tensorflow/tfjs` thus runs on the one engine the command
 * started, instead of a second copy that re-registers every kernel (and whose tensors the first copy's
 * kernels would not know). When the command lacks the package (a plugin's own tfjs-node), the plugin's
 * copy is used.
 */

interface HostPackagesData {
  /** A module of the command: shared packages are resolved as if it imported them. */
  parentURL: string;
  /** URL prefixes of the command's installation; importers under them resolve normally. */
  hostRoots: string[];
  /** Package scopes shared with plugins, e.g. `@tensorflow/`. */
  shared: string[];
}

interface ResolveContext {
  parentURL?: string;
  conditions?: string[];
  importAttributes?: Record<string, string>;
}

type NextResolve = (specifier: string, context?: ResolveContext) => Promise<{ url: string }>;

let host: HostPackagesData | undefined;

export async function initialize(data: HostPackagesData): Promise<void> {
  host = data;
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<{ url: string }> {
  const parent = context.parentURL;
  if (
    host !== undefined &&
    parent !== undefined &&
    host.shared.some((scope) => specifier.startsWith(scope)) &&
    !host.hostRoots.some((root) => parent.startsWith(root))
  ) {
    try {
      return await nextResolve(specifier, { ...context, parentURL: host.parentURL });
    } catch {
      // The command does not have it: the plugin's own copy.
    }
  }
  return nextResolve(specifier, context);
}
