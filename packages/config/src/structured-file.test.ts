import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatProblems, parseStructuredText, zodProblems } from './index.js';

describe('parseStructuredText', () => {
  it('reads YAML and JSON alike', () => {
    expect(parseStructuredText('a: 1\nb: [x, y]\n')).toEqual({ value: { a: 1, b: ['x', 'y'] } });
    expect(parseStructuredText('{"a": 1, "b": ["x", "y"]}')).toEqual({ value: { a: 1, b: ['x', 'y'] } });
  });

  it('lists syntax errors and duplicate keys with line and column', () => {
    const result = parseStructuredText('a: 1\na: 2\n');
    if (!('problems' in result)) throw new Error('expected problems');
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.path).toBe('line 2, column 1');
    expect(result.problems[0]?.message).toContain('Map keys must be unique');
  });

  it('refuses an empty document rather than reading it as all defaults', () => {
    expect(parseStructuredText('# nothing\n')).toEqual({
      problems: [{ path: '(file)', message: 'is empty' }],
    });
  });
});

describe('zodProblems and formatProblems', () => {
  it('name each problem by its path and list them all', () => {
    const schema = z.object({
      rules: z.object({ VELOCITY: z.object({ points: z.number() }) }),
      list: z.array(z.string()),
    });
    const result = schema.safeParse({ rules: { VELOCITY: {} }, list: ['a', 2] });
    expect(result.success).toBe(false);
    const problems = zodProblems(result.error?.issues ?? []);
    expect(problems.map((p) => p.path)).toEqual(['rules.VELOCITY.points', 'list[1]']);
    expect(problems[0]?.message).toBe('is required');
    expect(problems[1]?.message).toContain('expected string');
    expect(formatProblems(problems)).toBe(
      `2 problems:\n  - rules.VELOCITY.points: is required\n  - list[1]: ${problems[1]?.message}`,
    );
    expect(formatProblems([{ path: '(top level)', message: 'x' }])).toBe('1 problem:\n  - (top level): x');
  });
});
