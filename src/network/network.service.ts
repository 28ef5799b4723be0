import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { FindOptionsWhere, Repository } from 'typeorm';
import { NotFoundError } from '../common/domain-error';
import { LineDetailDto, LineDto, ListLinesQuery, OperatorDto } from './network.dto';
import { LineEntity, OperatorEntity, StationEntity } from './network.entities';

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
