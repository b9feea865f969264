import { main } from '../../bin/cli';

/** Runs the CLI in-process and captures its output and exit code. */
export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    out: (s) => {
      out.push(s);
    },
    err: (s) => {
      err.push(s);
    },
    isTTY: false,
  });
  return { code, out: out.join(''), err: err.join('') };
}
