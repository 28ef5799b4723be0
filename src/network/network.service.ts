import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { FindOptionsWhere, Repository } from 'typeorm';
import { NotFoundError } from '../common/domain-error';
import type { TransportMode } from './hanoi-network';
import { LineDetailDto, LineDto, ListLinesQuery, OperatorDto } from './network.dto';
import { LineEntity, OperatorEntity, StationEntity } from './network.entities';

export interface LineWithStations {
  id: string;
  code: string;
  name: string;
  mode: TransportMode;
  operatorId: string;
  stations: Array<{ id: string; name: string; positionM: number }>;
}

@Injectable()
export class NetworkService {
  constructor(
    @InjectRepository(OperatorEntity) private readonly operators: Repository<OperatorEntity>,
    @InjectRepository(LineEntity) private readonly lines: Repository<LineEntity>,
  ) {}

  async listOperators(): Promise<OperatorDto[]> {
    const rows = await this.operators.find({ order: { id: 'ASC' } });
    return rows.map(({ id, name, shortName }) => ({ id, name, shortName }));
  }

  async listLines(query: ListLinesQuery): Promise<LineDto[]> {
    const where: FindOptionsWhere<LineEntity> = {};
    if (query.mode) where.mode = query.mode;
    if (query.operatorId) where.operatorId = query.operatorId;
    const rows = await this.lines.find({
      where,
      relations: { stations: true },
      order: { code: 'ASC' },
    });
    return rows.map((line) => toLineDto(line, line.stations ?? []));
  }

  /** Every line with its stations in travel order, for in-memory caches such as the fare engine's. */
  async linesWithStations(): Promise<LineWithStations[]> {
    const rows = await this.lines.find({ relations: { stations: true }, order: { id: 'ASC', stations: { sequence: 'ASC' } } });
    return rows.map((line) => ({
      id: line.id,
      code: line.code,
      name: line.name,
      mode: line.mode,
      operatorId: line.operatorId,
      stations: (line.stations ?? []).map(({ id, name, positionM }) => ({ id, name, positionM })),
    }));
  }

  async getLine(id: string): Promise<LineDetailDto> {
    const line = await this.lines.findOne({
      where: { id },
      relations: { stations: true },
      order: { stations: { sequence: 'ASC' } },
    });
    if (!line) throw new NotFoundError('Line', id);
    const stations = line.stations ?? [];
    return {
      ...toLineDto(line, stations),
      stations: stations.map((station) => ({
        id: station.id,
        name: station.name,
        km: metresToKm(station.positionM),
        positionEstimated: station.positionEstimated,
      })),
    };
  }
}

function toLineDto(line: LineEntity, stations: StationEntity[]): LineDto {
  const lengthM = stations.reduce((max, station) => Math.max(max, station.positionM), 0);
  return { id: line.id, code: line.code, name: line.name, mode: line.mode, operatorId: line.operatorId, lengthKm: metresToKm(lengthM) };
}

function metresToKm(metres: number): number {
  return metres / 1000;
}
