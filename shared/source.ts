import { reasonOf } from './errors';

/**
 * The restored resource's source as described, or why it is not: none named in the restore job, gone
 * (deleted, or in another account or region), or not describable. The checks that compare with the
 * source say the problem instead of failing the validation.
 */
export async function describeSource<I, T>(
  id: I | undefined,
  named: (id: I) => string,
  describe: (id: I) => Promise<T | undefined>,
  none: string,
): Promise<{ source?: T; sourceProblem?: string }> {
  if (!id) return { sourceProblem: none };
  try {
    const source = await describe(id);
    if (!source)
      return { sourceProblem: `source ${named(id)} does not exist (deleted, or in another account/region)` };
    return { source };
  } catch (err) {
    return { sourceProblem: `source ${named(id)} could not be described: ${reasonOf(err)}` };
  }
}
