// Method parameters are validated like the rest of the experiment config:
// every problem at once, by key (method.emaDecay, ...), with defaults filled.
import { ConfigError, type Field } from '../../config/schema.js';

export function readParams<T>(schema: Field<T>, params: Record<string, unknown>): T {
  const problems: string[] = [];
  const out = schema.check(params, 'method', problems);
  if (problems.length) throw new ConfigError(problems);
  return out;
}
