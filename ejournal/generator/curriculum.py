"""What a school teaches: the weekly hours of each subject by grade (a five-day week, after the
federal curriculum), which subjects are marked, which get homework, and КТП topics.

Grade 1 is taught without marks and without homework (безотметочное обучение in the first grade,
per the federal rules on assessment and the sanitary rules); subjects such as ОРКСЭ and ОДНКНР are
assessed «зачёт» without lesson marks.
"""

from __future__ import annotations

RUSSIAN = "Русский язык"
READING = "Литературное чтение"
LITERATURE = "Литература"
NATIVE = "Родной язык"
ENGLISH = "Английский язык"
MATHS = "Математика"
ALGEBRA = "Алгебра"
GEOMETRY = "Геометрия"
STATISTICS = "Вероятность и статистика"
INFORMATICS = "Информатика"
WORLD = "Окружающий мир"
HISTORY = "История"
SOCIAL = "Обществознание"
GEOGRAPHY = "География"
BIOLOGY = "Биология"
PHYSICS = "Физика"
CHEMISTRY = "Химия"
MUSIC = "Музыка"
ART = "Изобразительное искусство"
LABOUR = "Труд (технология)"
PE = "Физическая культура"
SAFETY = "Основы безопасности и защиты Родины"
ORKSE = "Основы религиозных культур и светской этики"
ODNKNR = "Основы духовно-нравственной культуры народов России"
PROJECT = "Индивидуальный проект"

_PRIMARY = {RUSSIAN: 5, READING: 4, MATHS: 4, WORLD: 2, MUSIC: 1, ART: 1, LABOUR: 1, PE: 2}
HOURS: dict[int, dict[str, int]] = {
    1: {**_PRIMARY, NATIVE: 1},
    2: {**_PRIMARY, ENGLISH: 2},
    3: {**_PRIMARY, ENGLISH: 2},
    4: {**_PRIMARY, READING: 3, ENGLISH: 2, ORKSE: 1},
    5: {RUSSIAN: 5, LITERATURE: 3, ENGLISH: 3, MATHS: 5, HISTORY: 2, GEOGRAPHY: 1, BIOLOGY: 1,
        MUSIC: 1, ART: 1, LABOUR: 2, PE: 2, ODNKNR: 1},
    6: {RUSSIAN: 6, LITERATURE: 3, ENGLISH: 3, MATHS: 5, HISTORY: 2, SOCIAL: 1, GEOGRAPHY: 1,
        BIOLOGY: 1, MUSIC: 1, ART: 1, LABOUR: 2, PE: 2},
    7: {RUSSIAN: 4, LITERATURE: 2, ENGLISH: 3, ALGEBRA: 3, GEOMETRY: 2, STATISTICS: 1,
        INFORMATICS: 1, HISTORY: 2, SOCIAL: 1, GEOGRAPHY: 2, BIOLOGY: 1, PHYSICS: 2, MUSIC: 1,
        ART: 1, LABOUR: 2, PE: 2},
    8: {RUSSIAN: 3, LITERATURE: 2, ENGLISH: 3, ALGEBRA: 3, GEOMETRY: 2, STATISTICS: 1,
        INFORMATICS: 1, HISTORY: 2, SOCIAL: 1, GEOGRAPHY: 2, BIOLOGY: 2, PHYSICS: 2, CHEMISTRY: 2,
        MUSIC: 1, LABOUR: 1, SAFETY: 1, PE: 2},
    9: {RUSSIAN: 3, LITERATURE: 3, ENGLISH: 3, ALGEBRA: 3, GEOMETRY: 2, STATISTICS: 1,
        INFORMATICS: 1, HISTORY: 2, SOCIAL: 1, GEOGRAPHY: 2, BIOLOGY: 2, PHYSICS: 3, CHEMISTRY: 2,
        SAFETY: 1, PE: 2},
    10: {RUSSIAN: 2, LITERATURE: 3, ENGLISH: 3, ALGEBRA: 3, GEOMETRY: 2, STATISTICS: 1,
         INFORMATICS: 1, HISTORY: 2, SOCIAL: 2, GEOGRAPHY: 1, BIOLOGY: 1, PHYSICS: 2,
         CHEMISTRY: 1, SAFETY: 1, PE: 2, PROJECT: 1},
    11: {RUSSIAN: 2, LITERATURE: 3, ENGLISH: 3, ALGEBRA: 3, GEOMETRY: 2, STATISTICS: 1,
         INFORMATICS: 1, HISTORY: 2, SOCIAL: 2, GEOGRAPHY: 1, BIOLOGY: 1, PHYSICS: 2,
         CHEMISTRY: 1, SAFETY: 1, PE: 2},
}  # fmt: skip
"""Weekly hours of each subject by grade."""

UNMARKED = frozenset({ORKSE, ODNKNR, PROJECT})
"""Assessed «зачёт» at the end of a period, without lesson marks."""
NO_HOMEWORK = frozenset({PE, MUSIC, ART, LABOUR, ORKSE, ODNKNR, PROJECT, SAFETY})
EXAM_SUBJECTS = {9: (RUSSIAN, ALGEBRA), 11: (RUSSIAN, ALGEBRA)}
"""The compulsory exams (ОГЭ in grade 9, ЕГЭ in grade 11), recorded under these subjects."""

SUBJECT_TEACHERS: dict[str, str] = {
    # Subject → the speciality whose teacher teaches it in grades 5–11.
    RUSSIAN: "russkiy",
    LITERATURE: "russkiy",
    ENGLISH: "angliyskiy",
    MATHS: "matematika",
    ALGEBRA: "matematika",
    GEOMETRY: "matematika",
    STATISTICS: "matematika",
    INFORMATICS: "informatika",
    HISTORY: "istoriya",
    SOCIAL: "istoriya",
    ODNKNR: "istoriya",
    GEOGRAPHY: "geografiya",
    BIOLOGY: "biologiya",
    CHEMISTRY: "khimiya",
    PHYSICS: "fizika",
    MUSIC: "muzyka",
    ART: "muzyka",
    LABOUR: "trud",
    PE: "fizkultura",
    SAFETY: "obzr",
    PROJECT: "russkiy",
}
"""In grades 1–4 the class's own primary teacher teaches everything but English and PE."""

_TOPICS: dict[str, tuple[str, ...]] = {
    RUSSIAN: ("Звуки и буквы", "Состав слова", "Части речи", "Имя существительное",
              "Имя прилагательное", "Глагол", "Синтаксис и пунктуация", "Правописание корней",
              "Орфограммы в приставках", "Развитие речи: изложение", "Повторение изученного"),
    READING: ("Устное народное творчество", "Сказки народов России", "Стихи о природе",
              "Рассказы о детях", "Басни", "Произведения о Родине", "Внеклассное чтение"),
    LITERATURE: ("Фольклор", "Древнерусская литература", "Литература XVIII века",
                 "А. С. Пушкин", "М. Ю. Лермонтов", "Н. В. Гоголь", "Литература XIX века",
                 "Литература XX века", "Поэзия народов Дагестана", "Развитие речи: сочинение"),
    NATIVE: ("Звуки родного языка", "Слово и предложение", "Родная речь"),
    ENGLISH: ("Знакомство", "Моя семья", "Школьные предметы", "Свободное время", "Путешествия",
              "Грамматика: времена глагола", "Чтение и аудирование", "Письмо другу"),
    MATHS: ("Натуральные числа", "Сложение и вычитание", "Умножение и деление", "Дроби",
            "Десятичные дроби", "Проценты", "Геометрические фигуры", "Решение задач"),
    ALGEBRA: ("Выражения и их преобразования", "Линейные уравнения", "Функции и графики",
              "Квадратные уравнения", "Неравенства", "Прогрессии", "Степени и корни"),
    GEOMETRY: ("Начальные понятия", "Треугольники", "Параллельные прямые", "Четырёхугольники",
               "Площади фигур", "Подобие треугольников", "Окружность", "Векторы"),
    STATISTICS: ("Представление данных", "Описательная статистика", "Случайные события",
                 "Вероятность события"),
    INFORMATICS: ("Информация и информационные процессы", "Системы счисления",
                  "Алгоритмы и программирование", "Электронные таблицы", "Компьютерные сети"),
    WORLD: ("Природа и человек", "Наш край", "Времена года", "Человек и общество",
            "Правила безопасной жизни"),
    HISTORY: ("Древний мир", "Средние века", "Новое время", "История России",
              "История Дагестана", "Новейшая история"),
    SOCIAL: ("Человек и общество", "Право", "Экономика", "Политика", "Социальная сфера"),
    GEOGRAPHY: ("Земля во Вселенной", "Литосфера", "Атмосфера", "Гидросфера",
                "География России", "География Дагестана"),
    BIOLOGY: ("Клетка", "Растения", "Животные", "Человек и его здоровье", "Экосистемы"),
    PHYSICS: ("Механическое движение", "Силы в природе", "Давление", "Работа и энергия",
              "Тепловые явления", "Электрические явления", "Оптика"),
    CHEMISTRY: ("Вещества и их свойства", "Атомы и молекулы", "Химические реакции",
                "Периодический закон", "Растворы", "Органические вещества"),
    MUSIC: ("Музыка моего края", "Народная музыка", "Классическая музыка", "Музыкальный театр"),
    ART: ("Рисунок", "Живопись", "Декоративно-прикладное искусство", "Народные промыслы Дагестана"),
    LABOUR: ("Технологии обработки материалов", "Проектная деятельность", "Робототехника"),
    PE: ("Техника безопасности", "Лёгкая атлетика", "Гимнастика", "Спортивные игры",
         "Кроссовая подготовка", "Национальные виды спорта"),
    SAFETY: ("Безопасность в быту", "Первая помощь", "Основы обороны государства"),
    ORKSE: ("Россия — наша Родина", "Культура и мораль", "Традиции народов России"),
    ODNKNR: ("Многонациональный народ России", "Семья и традиции", "Культурное наследие"),
    PROJECT: ("Выбор темы проекта", "Работа с источниками", "Защита проекта"),
}  # fmt: skip


def plan_topics(subject: str, grade: int, count: int, first: tuple[str, ...] = ()) -> list[str]:
    """``count`` КТП topics for a subject in a grade: ``first``, then the subject's sections in
    turn, each lesson numbered within its section, and every eighth lesson a review."""
    topics = list(first[:count])
    sections = _TOPICS.get(subject, ("Тема раздела",))
    per_section = max(1, (count - len(topics)) // len(sections) or 1)
    n = 0
    while len(topics) < count:
        section = sections[min(n // per_section, len(sections) - 1)]
        lesson = n % per_section + 1
        if lesson % 8 == 0:
            topics.append(f"{section}: повторение и обобщение ({grade} класс)")
        else:
            topics.append(f"{section}. Урок {lesson}")
        n += 1
    return topics
