import { describe, expect, it } from 'vitest'
import { addDecimal, divDecimal, fixed, isCurrency, parseAmount } from '../../src/conversions/money.js'

describe('money', () => {
  it('parses non-negative decimals with at most 4 places, from strings or numbers', () => {
    expect(parseAmount('19.99')).toBe('19.9900')
    expect(parseAmount(19.99)).toBe('19.9900')
    expect(parseAmount(0.1)).toBe('0.1000')
    expect(parseAmount('007.5')).toBe('7.5000')
    expect(parseAmount('99999999999999.9999')).toBe('99999999999999.9999')
    for (const bad of ['-1', -1, '1.00001', 0.1 + 0.2, 'abc', '', '1e3', 1e21, Number.NaN, Infinity, '1,5', null, {}]) expect(parseAmount(bad), String(bad)).toBeNull()
  })

  it('adds and divides exactly, rounding half up', () => {
    expect(addDecimal('0.1', '0.2')).toBe('0.3000')
    expect(addDecimal('99999999999999.9999', '0.0001')).toBe('100000000000000.0000')
    expect(divDecimal('2.3', 3)).toBe('0.7667')
    expect(divDecimal('0.0001', 2)).toBe('0.0001')
    expect(divDecimal('0.0001', 3)).toBe('0.0000')
    expect(divDecimal('10', 0)).toBe('0.0000')
    expect(fixed('-3.5')).toBe('-3.5000')
  })

  it('knows ISO 4217 codes', () => {
    expect(isCurrency('EUR')).toBe(true)
    expect(isCurrency('JPY')).toBe(true)
    expect(isCurrency('XYZ')).toBe(false)
    expect(isCurrency('eur')).toBe(false)
  })
})
