import { describe, expect, it } from 'vitest'
import type { Link } from '../../src/services/campaigns.js'
import { resolveLinkRef } from '../../src/services/link-refs.js'
import { HONEYPOT_LABEL } from '../../src/services/templates.js'
import { DomainError } from '../../src/util/errors.js'

const link = (id: string, label: string, position: number) => ({ id, campaignId: 'c', url: 'https://shop.example/', label, position }) as Link
const links = [link('AAAA', 'hero', 1), link('BBBB', 'Shop now', 2), link('CCCC', 'Shop now', 3), link('DDDD', '3', 4), link('HHHH', HONEYPOT_LABEL, 0)]
const resolve = (ref: string) => resolveLinkRef(links, ref, 'query.clicked', 'c')

describe('resolveLinkRef', () => {
  it('takes an id, a label or a position (2 or #2) that names one link', () => {
    expect(resolve('CCCC')).toBe('CCCC')
    expect(resolve('hero')).toBe('AAAA')
    expect(resolve('2')).toBe('BBBB')
    expect(resolve('#1')).toBe('AAAA')
    expect(resolve('#4')).toBe('DDDD')
  })

  it('refuses what names several links, listing them, and what names none', () => {
    expect(() => resolve('Shop now')).toThrow(/names 2 links in campaign c: BBBB \(position 2, label "Shop now"\), CCCC \(position 3, label "Shop now"\); give the link id/)
    // "3" is link DDDD's label and link CCCC's position.
    expect(() => resolve('3')).toThrow(/names 2 links/)
    expect(() => resolve('L2')).toThrow(DomainError)
    expect(() => resolve('L2')).toThrow(/^query\.clicked: no link "L2" in campaign c/)
    // The honeypot is no reader's link.
    expect(() => resolve(HONEYPOT_LABEL)).toThrow(/no link/)
    expect(() => resolve('0')).toThrow(/no link/)
  })
})
