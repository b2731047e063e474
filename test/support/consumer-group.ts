import { AssignerProtocol, type Admin } from 'kafkajs';
import { expect, vi } from 'vitest';

/** The group's members and their partitions of `topic`, when the group is Stable; else null. */
async function stableAssignment(admin: Admin, groupId: string, topic: string): Promise<number[][] | null> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0];
  if (group?.state !== 'Stable') return null;
  return group.members.map((member) => {
    const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    return [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b);
  });
}

/**
 * Waits until the group is Stable with `members` members, each owning some of `topic`, and
 * together all its `partitions` partitions when given. A member that was killed stays in the group until its session times out,
 * so this is also how a test knows a rebalance after a kill is over.
 */
export async function waitForStableGroup(
  admin: Admin,
  groupId: string,
  topic: string,
  members: number,
  partitions?: number,
  timeout = 60_000,
): Promise<void> {
  await vi.waitFor(
    async () => {
      const assignment = await stableAssignment(admin, groupId, topic);
      expect(assignment, 'group stable').not.toBeNull();
      expect(assignment?.length, 'members').toBe(members);
      for (const owned of assignment ?? []) expect(owned.length).toBeGreaterThan(0);
      if (partitions !== undefined)
        expect(assignment?.flat().sort((a, b) => a - b)).toEqual([...Array(partitions).keys()]);
    },
    { timeout, interval: 200 },
  );
}
