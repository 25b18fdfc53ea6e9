import { describe, expect, it } from 'vitest'
import { addDecimal, currencyDecimals, divDecimal, fixed, inCurrency, isCurrency, parseAmount, revenueInCurrency } from '../../src/conversions/money.js'

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

  it("shows an amount in its currency's own decimals, half up, without a float", () => {
    expect([currencyDecimals('EUR'), currencyDecimals('USD'), currencyDecimals('JPY'), currencyDecimals('BHD'), currencyDecimals('XYZ')]).toEqual([2, 2, 0, 3, 2])
    expect(inCurrency('60.0000', 'EUR')).toBe('60.00')
    expect(inCurrency('1000.0000', 'JPY')).toBe('1000')
    expect(inCurrency('999.5000', 'JPY')).toBe('1000')
    expect(inCurrency('1.2345', 'BHD')).toBe('1.235')
    // 10.005 is 10.004999… as a double: exact strings round it up.
    expect(inCurrency('10.005', 'EUR')).toBe('10.01')
    expect(inCurrency('0.0049', 'EUR')).toBe('0.00')
    expect(inCurrency('-6.6667', 'EUR')).toBe('-6.67')
    expect(inCurrency('-0.0040', 'EUR')).toBe('0.00')
    expect(revenueInCurrency({ EUR: '2.3000', JPY: '500.4000' })).toEqual({ EUR: '2.30', JPY: '500' })
  })
})
