import { operatorScope } from './operator-scope';

describe('operatorScope', () => {
  it('lets an admin read any operator, or all', () => {
    expect(operatorScope({ id: 'a', role: 'admin' }, 'transerco')).toBe('transerco');
    expect(operatorScope({ id: 'a', role: 'admin' }, undefined)).toBeUndefined();
  });

  it("keeps operator staff to their own operator's data", () => {
    const staff = { id: 'o', role: 'operator', operatorId: 'hmc' } as const;
    expect(operatorScope(staff, undefined)).toBe('hmc');
    expect(operatorScope(staff, 'hmc')).toBe('hmc');
    expect(() => operatorScope(staff, 'transerco')).toThrow(expect.objectContaining({ kind: 'forbidden', code: 'OPERATOR_SCOPE' }));
  });

  it('refuses everyone else', () => {
    expect(() => operatorScope({ id: 'p', role: 'passenger' }, undefined)).toThrow(expect.objectContaining({ code: 'OPERATOR_SCOPE' }));
    expect(() => operatorScope({ id: 'o', role: 'operator' }, undefined)).toThrow(expect.objectContaining({ code: 'OPERATOR_SCOPE' }));
  });
});
