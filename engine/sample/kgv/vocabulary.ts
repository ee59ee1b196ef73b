/**
 * Words the KGV sample is made of: Berlin's twelve Bezirke with some of their
 * Ortsteile (the sample's Katasterbezirke) and real postal codes, street
 * names, German first and last names of several generations (and of Berlin's
 * Turkish and Polish families), and the garden colonies applicants ask for.
 * E-mail domains are under the reserved `.example` TLD, so no fabricated
 * address can belong to anyone.
 */

export interface District {
  name: string;
  ortsteile: string[];
  postalCodes: string[];
}

export const DISTRICTS: District[] = [
  { name: 'Mitte', ortsteile: ['Mitte', 'Moabit', 'Hansaviertel', 'Tiergarten', 'Wedding', 'Gesundbrunnen'], postalCodes: ['10115', '10117', '10119', '10178', '10551', '10553', '10555', '10557', '13347', '13349', '13351', '13353', '13355', '13357', '13359'] },
  { name: 'Friedrichshain-Kreuzberg', ortsteile: ['Friedrichshain', 'Kreuzberg'], postalCodes: ['10243', '10245', '10247', '10249', '10961', '10963', '10965', '10967', '10969', '10997', '10999'] },
  { name: 'Pankow', ortsteile: ['Prenzlauer Berg', 'Weißensee', 'Blankenburg', 'Heinersdorf', 'Karow', 'Französisch Buchholz', 'Niederschönhausen', 'Rosenthal', 'Buch'], postalCodes: ['10405', '10407', '10409', '10435', '10437', '10439', '13086', '13088', '13089', '13125', '13127', '13129', '13156', '13158', '13187', '13189'] },
  { name: 'Charlottenburg-Wilmersdorf', ortsteile: ['Charlottenburg', 'Wilmersdorf', 'Schmargendorf', 'Grunewald', 'Westend', 'Halensee'], postalCodes: ['10585', '10587', '10589', '10623', '10625', '10627', '10629', '10707', '10709', '10711', '10713', '10715', '14050', '14052', '14055', '14057', '14059', '14193', '14197', '14199'] },
  { name: 'Spandau', ortsteile: ['Spandau', 'Haselhorst', 'Siemensstadt', 'Staaken', 'Gatow', 'Kladow', 'Hakenfelde'], postalCodes: ['13581', '13583', '13585', '13587', '13589', '13591', '13593', '13595', '13597', '13599', '14089'] },
  { name: 'Steglitz-Zehlendorf', ortsteile: ['Steglitz', 'Lichterfelde', 'Lankwitz', 'Zehlendorf', 'Dahlem', 'Nikolassee', 'Wannsee'], postalCodes: ['12157', '12161', '12163', '12165', '12167', '12169', '12203', '12205', '12207', '12209', '14109', '14129', '14163', '14165', '14167', '14169', '14195'] },
  { name: 'Tempelhof-Schöneberg', ortsteile: ['Schöneberg', 'Friedenau', 'Tempelhof', 'Mariendorf', 'Marienfelde', 'Lichtenrade'], postalCodes: ['10777', '10779', '10781', '10783', '10785', '10823', '10825', '10827', '10829', '12099', '12101', '12103', '12105', '12107', '12109', '12277', '12279', '12305', '12307', '12309'] },
  { name: 'Neukölln', ortsteile: ['Neukölln', 'Britz', 'Buckow', 'Rudow', 'Gropiusstadt'], postalCodes: ['12043', '12045', '12047', '12049', '12051', '12053', '12055', '12057', '12059', '12347', '12349', '12351', '12353', '12355', '12357', '12359'] },
  { name: 'Treptow-Köpenick', ortsteile: ['Alt-Treptow', 'Plänterwald', 'Baumschulenweg', 'Johannisthal', 'Adlershof', 'Köpenick', 'Friedrichshagen', 'Müggelheim'], postalCodes: ['12435', '12437', '12439', '12459', '12487', '12489', '12524', '12526', '12527', '12555', '12557', '12559', '12587', '12589'] },
  { name: 'Marzahn-Hellersdorf', ortsteile: ['Marzahn', 'Biesdorf', 'Kaulsdorf', 'Mahlsdorf', 'Hellersdorf'], postalCodes: ['12619', '12621', '12623', '12627', '12629', '12679', '12681', '12683', '12685', '12687', '12689'] },
  { name: 'Lichtenberg', ortsteile: ['Friedrichsfelde', 'Karlshorst', 'Lichtenberg', 'Rummelsburg', 'Hohenschönhausen'], postalCodes: ['10315', '10317', '10318', '10319', '10365', '10367', '10369', '13051', '13053', '13055', '13057', '13059'] },
  { name: 'Reinickendorf', ortsteile: ['Reinickendorf', 'Tegel', 'Wittenau', 'Hermsdorf', 'Frohnau', 'Heiligensee', 'Lübars'], postalCodes: ['13403', '13405', '13407', '13409', '13435', '13437', '13439', '13465', '13467', '13469', '13503', '13505', '13507', '13509'] },
];

export const STREETS = [
  'Hauptstraße', 'Berliner Straße', 'Dorfstraße', 'Gartenstraße', 'Lindenstraße', 'Schillerstraße', 'Goethestraße',
  'Bahnhofstraße', 'Kastanienallee', 'Birkenweg', 'Ahornweg', 'Rosenweg', 'Fliederweg', 'Am Wasserturm', 'Seestraße',
  'Parkstraße', 'Waldstraße', 'Friedrichstraße', 'Karl-Marx-Straße', 'Frankfurter Allee', 'Schönhauser Allee',
  'Sonnenallee', 'Kurfürstendamm', 'Müllerstraße', 'Greifswalder Straße', 'Prenzlauer Allee', 'Warschauer Straße',
  'Hermannstraße', 'Turmstraße', 'Alt-Moabit', 'Residenzstraße', 'Wilhelmstraße', 'Straße des 17. Juni',
  'Platz der Luftbrücke', 'Am Müggelsee', 'Köpenicker Landstraße', 'Allee der Kosmonauten', 'Märkische Allee',
  'Tegeler Weg', 'Spandauer Damm', 'Heerstraße', 'Clayallee', 'Unter den Eichen', 'Mariendorfer Damm', 'Britzer Damm',
  'Grünauer Straße', 'Hönower Straße', 'Rhinstraße', 'Oranienburger Chaussee', 'Alt-Lübars', 'Zum Großen Fenn',
];

export const FEMALE = [
  'Anna', 'Maria', 'Ursula', 'Monika', 'Petra', 'Sabine', 'Renate', 'Helga', 'Karin', 'Brigitte', 'Ingrid', 'Erika',
  'Andrea', 'Gabriele', 'Susanne', 'Christine', 'Claudia', 'Birgit', 'Stefanie', 'Julia', 'Katharina', 'Sandra',
  'Nicole', 'Melanie', 'Lena', 'Laura', 'Sophie', 'Marie', 'Hannah', 'Jana', 'Franziska', 'Anja', 'Heike', 'Gisela',
  'Elke', 'Jutta', 'Sarah', 'Zoë', 'Ayşe', 'Özlem', 'Agnieszka', 'Małgorzata', 'Dörte', 'Bärbel', 'Annelie',
];

export const MALE = [
  'Peter', 'Michael', 'Thomas', 'Andreas', 'Wolfgang', 'Klaus', 'Jürgen', 'Günter', 'Stefan', 'Christian', 'Uwe',
  'Werner', 'Horst', 'Frank', 'Dieter', 'Manfred', 'Bernd', 'Ralf', 'Matthias', 'Markus', 'Jan', 'Tobias', 'Sebastian',
  'Alexander', 'Daniel', 'Florian', 'Lukas', 'Felix', 'Jonas', 'Maximilian', 'Paul', 'Leon', 'Björn', 'Jörg', 'Sören',
  'Mehmet', 'Ömer', 'Piotr', 'Dmitri', 'Hans-Jürgen', 'Karl-Heinz', 'Detlef',
];

export const LAST_NAMES = [
  'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Schäfer',
  'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann', 'Braun', 'Krüger',
  'Hofmann', 'Hartmann', 'Lange', 'Schmitt', 'Werner', 'Krause', 'Meier', 'Lehmann', 'Schulze', 'Köhler', 'Herrmann',
  'König', 'Walter', 'Kaiser', 'Fuchs', 'Peters', 'Scholz', 'Möller', 'Weiß', 'Jung', 'Hahn', 'Schubert', 'Vogel',
  'Friedrich', 'Keller', 'Günther', 'Berger', 'Winkler', 'Roth', 'Lorenz', 'Baumann', 'Franke', 'Albrecht', 'Ludwig',
  'Böhm', 'Winter', 'Krämer', 'Vogt', 'Jäger', 'Otto', 'Sommer', 'Groß', 'Seidel', 'Heinrich', 'Brandt', 'Schreiber',
  'Kühn', 'Pohl', 'Engel', 'Voigt', 'Sauer', 'Pfeiffer', 'Meißner', 'Großmann', 'Weißenborn', 'Strauß', 'Fußmann',
  'Yılmaz', 'Kaya', 'Demir', 'Öztürk', 'Nowak', 'Kowalski', 'Wiśniewski', 'von Bülow', 'Müller-Lüdenscheidt',
  'Schulze-Delitzsch', 'de Maizière',
];

export const TITLES = ['Dr.', 'Prof. Dr.', 'Dipl.-Ing.', 'Dr. med.'];

export const COLONIES = [
  'KGA „Am Wasserturm“ e.V.', 'KGA „Sonnenschein“', 'KGA „Frohe Zukunft“', 'KGA „Rehberge“', 'KGA „Bornholm I“',
  'KGA „Famos“', 'KGA „Erholung“', 'KGA „Neuland“', 'KGA „Abendrot“', 'KGA „Birkenwäldchen“', 'KGA „Morgenrot“',
  'KGA „Feierabend“', 'KGA „Samariter“', 'KGA „Am Stadtpark“', 'KGA „Heideschlößchen“', 'KGA „Gartenfreunde Süd“',
];

export const WISHES = [
  'Parzelle mit Laube, gern mit Wasseranschluss',
  'möglichst nah an der Wohnung, Fahrrad-Entfernung',
  'kleine Parzelle (bis 250 m²), auch verwildert',
  'Familie mit zwei Kindern, Parzelle mit Spielwiese',
  'barrierefreier Zugang (Rollator)',
  'keine Präferenz',
  'Gemeinschaftsgarten ebenfalls möglich',
  'gern mit Obstbäumen',
];

export const MAIL_DOMAINS = ['web.example', 'gmx.example', 't-online.example', 'posteo.example', 'freenet.example', 'mailbox.example', 'berlin.example'];

/** Verlauf's event kinds (ve_Art, char(2)) and the text the clerks wrote. */
export const EVENT_TEXTS: Record<string, string[]> = {
  EG: ['Antrag eingegangen (Post)', 'Antrag eingegangen (persönlich abgegeben)', 'Antrag eingegangen per E-Mail'],
  BS: ['Eingangsbestätigung versandt', 'Eingangsbestätigung und Wartelistenplatz mitgeteilt'],
  AD: ['Adresse geändert (Umzug)', 'Telefonnummer aktualisiert', 'Neue E-Mail-Adresse mitgeteilt'],
  VM: ['Rückruf erbeten', 'Nachfrage zum Stand der Warteliste', 'Interesse besteht weiterhin (jährliche Abfrage)'],
  AG: ['Angebot Parzelle versandt'],
  AB: ['Angebot abgelehnt (zu weit entfernt)', 'Angebot abgelehnt (Parzelle zu groß)', 'Angebot angenommen, Pachtvertrag folgt'],
  DE: ['Antrag deaktiviert: Bewerber verzichtet', 'Antrag deaktiviert: keine Rückmeldung auf jährliche Abfrage', 'Antrag deaktiviert: Parzelle vergeben'],
};
