import { Column, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryColumn } from 'typeorm';
import type { TransportMode } from './hanoi-network';

@Entity({ name: 'operators' })
export class OperatorEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ name: 'short_name', type: 'text' }) shortName!: string;
}

@Entity({ name: 'lines' })
export class LineEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', unique: true }) code!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) mode!: TransportMode;
  @Column({ name: 'operator_id', type: 'text' }) operatorId!: string;
  @ManyToOne(() => OperatorEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'operator_id' })
  operator?: OperatorEntity;
  @OneToMany(() => StationEntity, (station) => station.line)
  stations?: StationEntity[];
}

@Entity({ name: 'stations' })
export class StationEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'line_id', type: 'text' }) lineId!: string;
  @ManyToOne(() => LineEntity, (line) => line.stations, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'line_id' })
  line?: LineEntity;
  /** 0 for the first station of the line, in travel order as built. */
  @Column({ type: 'integer' }) sequence!: number;
  @Column({ type: 'text' }) name!: string;
  /** Metres from the line's first station. */
  @Column({ name: 'position_m', type: 'integer' }) positionM!: number;
  @Column({ name: 'position_estimated', type: 'boolean' }) positionEstimated!: boolean;
}
